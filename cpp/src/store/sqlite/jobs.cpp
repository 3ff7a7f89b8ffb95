#include "store/sqlite/jobs.hpp"

#include "conjure/auth/crypto.hpp"
#include "conjure/versions/snapshot.hpp"
#include "conjure/world/world.hpp"
#include "store/sqlite/outbox.hpp"
#include "store/sqlite/world_rows.hpp"

namespace conjure::sqlite {

using store::check_id;
using store::check_scope;
using store::parse_stored;

namespace {

#define JOB_COLS                                                                                            \
  "id, app_id, mode, kind, status, payload, coalesce(result, 'null'), coalesce(error, ''), coalesce(worker, ''), " \
  "created_at, updated_at, attempts"

Job job_from(Stmt& s) {
  Job j;
  j.id = s.text(0);
  j.app_id = s.text(1);
  j.mode = s.text(2);
  j.kind = s.text(3);
  j.status = s.text(4);
  j.payload = parse_stored(s.text(5), "job payload");
  j.result = parse_stored(s.text(6), "job result");
  j.error = s.text(7);
  j.worker = s.text(8);
  j.created_at = s.text(9);
  j.updated_at = s.text(10);
  j.attempts = static_cast<int>(s.i64(11));
  return j;
}

Job load_job(Conn& c, const std::string& job_id) {
  check_id(job_id, "job");
  Stmt s = c.prepare("SELECT " JOB_COLS " FROM jobs WHERE id=?");
  s.args(job_id);
  if (!s.step()) throw Error(ErrorCode::kNotFound, "job not found");
  return job_from(s);
}

// Ends a job that has not ended yet (kConflict otherwise), in the caller's transaction.
Job finish_job_in(Conn& c, const std::string& job_id, const char* status, const Json* result,
                  const std::string& error) {
  Job cur = load_job(c, job_id);
  if (cur.status == "succeeded" || cur.status == "failed") {
    throw Error(ErrorCode::kConflict, "the job already " + cur.status);
  }
  c.prepare("UPDATE jobs SET status=?, result=?, error=?, locked_until=0, updated_at=? WHERE id=?")
      .bind(1, status)
      .bind(2, result ? versions::canonical(*result) : std::string("null"))
      .bind_opt(3, error)
      .bind(4, now_rfc3339())
      .bind(5, job_id)
      .run();
  return load_job(c, job_id);
}

}  // namespace

Job SqliteJobs::create_job(const Scope& scope, const std::string& kind, const Json& payload) {
  check_scope(scope);
  if (kind.empty() || kind.size() > 100) throw Error(ErrorCode::kBadInput, "kind: 1-100 characters");
  Job j;
  ctx_.write_tx([&](Conn& c) {
    std::string id = auth::uuid4(), now = now_rfc3339();
    c.prepare("INSERT INTO jobs(id, app_id, mode, kind, status, payload, created_at, updated_at) VALUES (?,?,?,?,'queued',?,?,?)")
        .args(id, scope.app_id, scope.mode, kind, versions::canonical(payload), now, now)
        .run();
    j = load_job(c, id);
  });
  return j;
}

Job SqliteJobs::get_job(const Scope& scope, const std::string& job_id) {
  check_scope(scope);
  Job j;
  ctx_.read_tx([&](Conn& c) { j = load_job(c, job_id); });
  if (j.app_id != scope.app_id || j.mode != scope.mode) throw Error(ErrorCode::kNotFound, "job not found");
  return j;
}

std::optional<Job> SqliteJobs::claim_job(const std::string& worker, int lease_seconds) {
  if (lease_seconds < 1) throw Error(ErrorCode::kBadInput, "lease_seconds: at least 1");
  std::optional<Job> out;
  std::int64_t now = store::unix_now();
  ctx_.write_tx([&](Conn& c) {
    std::string id;
    {
      Stmt s = c.prepare(
          "SELECT id FROM jobs WHERE status='queued' OR (status='running' AND locked_until<?) ORDER BY seq LIMIT 1");
      s.args(now);
      if (!s.step()) return;
      id = s.text(0);
    }
    c.prepare("UPDATE jobs SET status='running', worker=?, attempts=attempts+1, locked_until=?, updated_at=? WHERE id=?")
        .args(worker, now + lease_seconds, now_rfc3339(), id)
        .run();
    out = load_job(c, id);
  });
  return out;
}

Job SqliteJobs::finish_job(const std::string& job_id, const char* status, const Json* result, const std::string& error) {
  Job j;
  ctx_.write_tx([&](Conn& c) { j = finish_job_in(c, job_id, status, result, error); });
  return j;
}

Job SqliteJobs::complete_job(const std::string& job_id, const Json& result) {
  return finish_job(job_id, "succeeded", &result, "");
}

Job SqliteJobs::fail_job(const std::string& job_id, const std::string& error) {
  return finish_job(job_id, "failed", nullptr, error.empty() ? "failed" : error);
}

GenerationDone SqliteJobs::complete_generation_job(const std::string& job_id, const Json& world,
                                                   const std::string& event_type, const GateOptions& gate) {
  check_id(job_id, "job");
  if (!world.is_object()) throw Error(ErrorCode::kBadInput, "world: expected a JSON object");
  if (event_type.empty() || event_type.size() > 100) throw Error(ErrorCode::kBadInput, "event_type: an event type");
  Json doc = world;
  normalise(doc);
  std::string id = auth::uuid4();
  doc["id"] = id;
  std::string text = versions::canonical(doc);
  store::check_doc_size(text, gate);
  GenerationDone out;
  ctx_.write_tx([&](Conn& c) {
    Job cur = load_job(c, job_id);
    if (cur.status == "succeeded" || cur.status == "failed") {
      throw Error(ErrorCode::kConflict, "the job already " + cur.status);
    }
    Scope scope{cur.app_id, cur.mode};
    check_scope(scope);
    insert_world_row(c, scope, doc, text, gate, "", out.world);
    Json result = {{"worldId", id}, {"rev", out.world.rev}};
    out.event = enqueue_in(c, scope, event_type, {{"jobId", job_id}, {"worldId", id}, {"rev", out.world.rev}});
    out.job = finish_job_in(c, job_id, "succeeded", &result, "");
  });
  ctx_.graphs().put(id, out.world.rev, std::make_shared<const Json>(doc));
  out.world.world = std::move(doc);
  return out;
}

}  // namespace conjure::sqlite
