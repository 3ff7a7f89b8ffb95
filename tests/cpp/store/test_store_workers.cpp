// The store calls the HTTP server's readers and workers rely on: the graph as
// text, delivery schedules chosen by the caller, every delivery attempt, and a
// generation job completed in one transaction.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "conjure/errors.hpp"
#include "conjure/store/errors.hpp"
#include "conjure/store/store.hpp"
#include "store_fixture.hpp"

using namespace conjure;
using conjure::testing::sample_world;
using conjure::testing::code_of;
using conjure::testing::TempDir;
using conjure::testing::update_base;

namespace {

const GateOptions kGate{};

}  // namespace

TEST(StoreGraphText, IsTheCanonicalTextOfTheWorkingGraph) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  const Scope scope{"app-1", "test"};
  GraphWrite g = s->create_world(scope, sample_world(5), kGate);
  std::string id = g.world["id"];
  GraphText t = s->get_graph_text(scope, id);
  EXPECT_EQ(t.rev, g.rev);
  EXPECT_EQ(Json::parse(t.text), s->get_graph(scope, id).world);
  GraphWrite w = s->apply_ops(scope, id, update_base("s0", "a candlelit hall"), g.rev, kGate);
  t = s->get_graph_text(scope, id);
  EXPECT_EQ(t.rev, w.rev);
  EXPECT_EQ(Json::parse(t.text), s->get_graph(scope, id).world);
  EXPECT_EQ(Json::parse(t.text)["scene"]["states"]["s0"]["base"], "a candlelit hall");
  EXPECT_EQ(code_of([&] { s->get_graph_text(Scope{"app-2", "test"}, id); }), ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { s->get_graph_text(Scope{"app-1", "live"}, id); }), ErrorCode::kNotFound);
  s->delete_world(scope, id);
  EXPECT_EQ(code_of([&] { s->get_graph_text(scope, id); }), ErrorCode::kNotFound);
}

TEST(StoreDeliveries, TheCallersScheduleReplacesTheBackoffAndEveryAttemptIsListed) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  App a = s->create_app("", "Game");
  s->create_webhook(a.id, "https://example.com/hook", {"*"}, "");
  s->enqueue_event(Scope{a.id, "test"}, "world.edited", {{"worldId", "w1"}});
  auto ds = s->claim_deliveries(10, 30);
  ASSERT_EQ(ds.size(), 1u);
  const std::string id = ds[0].id;
  EXPECT_TRUE(s->list_delivery_attempts(id).empty());

  // next_attempt_in 0: due again at once (the built-in backoff would wait a minute).
  Delivery d = s->record_delivery(id, 500, false, "HTTP 500", 0.0);
  EXPECT_EQ(d.status, "pending");
  EXPECT_EQ(d.attempt, 1);
  ds = s->claim_deliveries(10, 30);
  ASSERT_EQ(ds.size(), 1u);
  // A later attempt with a long delay is not due.
  d = s->record_delivery(id, 0, false, "timeout", 3600.0);
  EXPECT_EQ(d.status, "pending");
  EXPECT_TRUE(s->claim_deliveries(10, 30).empty());
  // Past the built-in cap of six attempts, the caller's schedule still decides.
  for (int i = 0; i < 5; ++i) s->record_delivery(id, 502, false, "HTTP 502", 0.0);
  EXPECT_EQ(s->list_deliveries(a.id, s->list_webhooks(a.id, 10, "").data[0].id, 10, "").data[0].status, "pending");
  // Negative: give up now.
  d = s->record_delivery(id, 503, false, "HTTP 503", -1.0);
  EXPECT_EQ(d.status, "failed");
  EXPECT_EQ(d.attempt, 8);
  EXPECT_TRUE(d.next_attempt_at.empty());
  EXPECT_EQ(code_of([&] { s->record_delivery(id, 200, true, "", 0.0); }), ErrorCode::kConflict);

  auto attempts = s->list_delivery_attempts(id);
  ASSERT_EQ(attempts.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(attempts[i].attempt, i + 1);
  EXPECT_EQ(attempts[0].response_status, 500);
  EXPECT_EQ(attempts[0].error, "HTTP 500");
  EXPECT_EQ(attempts[0].status, "pending");
  EXPECT_EQ(attempts[1].response_status, 0);
  EXPECT_EQ(attempts[1].error, "timeout");
  EXPECT_EQ(attempts[7].status, "failed");
  EXPECT_EQ(attempts[7].response_status, 503);
  EXPECT_FALSE(attempts[7].created_at.empty());
  EXPECT_EQ(code_of([&] { s->list_delivery_attempts("no-such-delivery"); }), ErrorCode::kNotFound);
  EXPECT_EQ(code_of([&] { s->record_delivery(id, 0, false, "", std::nan("")); }), ErrorCode::kBadInput);
}

TEST(StoreDeliveries, WithoutAScheduleTheBuiltInBackoffEndsAfterSixAttempts) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  App a = s->create_app("", "Game");
  s->create_webhook(a.id, "https://example.com/hook", {"*"}, "");
  s->enqueue_event(Scope{a.id, "test"}, "world.edited", Json::object());
  const std::string id = s->claim_deliveries(10, 30)[0].id;
  Delivery d;
  for (int i = 0; i < 6; ++i) d = s->record_delivery(id, 500, false, "HTTP 500");
  EXPECT_EQ(d.status, "failed");
  auto attempts = s->list_delivery_attempts(id);
  ASSERT_EQ(attempts.size(), 6u);
  EXPECT_EQ(attempts[4].status, "pending");
  EXPECT_EQ(attempts[5].status, "failed");
}

TEST(StoreJobs, AGenerationJobCompletesWithItsWorldAndEventInOneTransaction) {
  TempDir dir;
  auto s = open_store(dir.file("a.db"));
  App a = s->create_app("", "Game");
  const Scope scope{a.id, "live"};
  s->create_webhook(a.id, "https://example.com/hook", {"world.generation.succeeded"}, "");
  Job j = s->create_job(scope, "generate", {{"premise", "an abbey"}});
  ASSERT_TRUE(s->claim_job("w1", 60).has_value());

  GenerationDone done = s->complete_generation_job(j.id, sample_world(3, "Abbey"), "world.generation.succeeded", kGate);
  std::string wid = done.world.world["id"];
  EXPECT_EQ(done.job.status, "succeeded");
  EXPECT_EQ(done.job.result, (Json{{"worldId", wid}, {"rev", done.world.rev}}));
  EXPECT_EQ(done.event.data, (Json{{"jobId", j.id}, {"worldId", wid}, {"rev", done.world.rev}}));
  EXPECT_EQ(s->get_graph(scope, wid).world["name"], "Abbey");
  EXPECT_EQ(s->get_graph(scope, wid).rev, done.world.rev);
  auto ds = s->claim_deliveries(10, 30);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].body["data"]["worldId"], wid);

  // A second completion (a rerun of the same job) writes nothing: no second world, no second event.
  EXPECT_EQ(code_of([&] { s->complete_generation_job(j.id, sample_world(3), "world.generation.succeeded", kGate); }),
            ErrorCode::kConflict);
  EXPECT_EQ(s->list_worlds(scope, 10, "").data.size(), 1u);
  s->enqueue_event(scope, "world.generation.failed", Json::object());  // not subscribed: no delivery
  EXPECT_TRUE(s->claim_deliveries(10, 30).empty());

  // A refused world writes nothing and leaves the job running.
  Job j2 = s->create_job(scope, "generate", Json::object());
  ASSERT_TRUE(s->claim_job("w1", 60).has_value());
  Json bad = sample_world(3);
  bad["entrance"]["state"] = "no-such-state";
  EXPECT_THROW(s->complete_generation_job(j2.id, bad, "world.generation.succeeded", kGate), GateFailed);
  EXPECT_EQ(s->get_job(scope, j2.id).status, "running");
  EXPECT_EQ(s->list_worlds(scope, 10, "").data.size(), 1u);
  EXPECT_TRUE(s->claim_deliveries(10, 30).empty());
  EXPECT_EQ(code_of([&] { s->complete_generation_job("no-such-job", sample_world(3), "x", kGate); }),
            ErrorCode::kNotFound);
}
