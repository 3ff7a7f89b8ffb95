// The native runtime: live sessions, frames in a single-slot mailbox, engine
// events, inputs and closing.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "conjure/errors.hpp"
#include "conjure/json.hpp"
#include "conjure/render/jpeg.hpp"
#include "conjure/runtime/render_loop.hpp"

using conjure::Json;
using conjure::runtime::Message;
using conjure::runtime::RenderLoop;
using conjure::runtime::RenderLoopOptions;
using conjure::runtime::SessionStats;
using namespace std::chrono_literals;

namespace {

std::string abbey_text() {
  std::ifstream in(std::string(CONJURE_SOURCE_DIR) + "/examples/drowned-abbey.json", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RenderLoopOptions small(double fps = 30) {
  RenderLoopOptions o;
  o.width = 160;
  o.height = 90;
  o.fps = fps;
  return o;
}

// The next event message (skipping frames); fails the test on anything else.
Json next_event(RenderLoop& loop, const std::string& sid) {
  for (int i = 0; i < 2000; ++i) {
    Message m = loop.next(sid, 5000ms);
    if (m.kind == Message::Kind::kEvent) return Json::parse(m.text);
    if (m.kind != Message::Kind::kFrame) {
      ADD_FAILURE() << "expected an event, got " << conjure::runtime::message_kind_name(m.kind);
      return Json();
    }
  }
  ADD_FAILURE() << "no event among 2000 frames";
  return Json();
}

class RenderLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { text = abbey_text(); }
  std::string text;
};

TEST_F(RenderLoopTest, OpenQueuesTheEntranceStateFirst) {
  RenderLoop loop(small());
  loop.load_world("abbey@1", text);
  loop.open("s1", "abbey@1", "p1");
  Json first = next_event(loop, "s1");
  EXPECT_EQ(first["type"], "state");
  EXPECT_EQ(first["state"], "courtyard");
  EXPECT_EQ(first["moving"], false);
  ASSERT_TRUE(first["events"].is_array());
  ASSERT_FALSE(first["events"].empty());
  EXPECT_EQ(first["events"][0]["name"], "Take the lantern");
  EXPECT_EQ(first["events"][0]["hotkey"], "E");
  EXPECT_EQ(first["events"][0]["index"], 1);
}

TEST_F(RenderLoopTest, FramesArriveAsDecodableJpegsOfTheConfiguredSize) {
  RenderLoop loop(small());
  loop.load_world("abbey@1", text);
  loop.open("s1", "abbey@1", "p1");
  int frames = 0;
  for (int i = 0; i < 100 && frames < 3; ++i) {
    Message m = loop.next("s1", 5000ms);
    ASSERT_NE(m.kind, Message::Kind::kTimeout);
    if (m.kind != Message::Kind::kFrame) continue;
    auto f = conjure::render::decode_jpeg(m.jpeg);
    EXPECT_EQ(f.width, 160);
    EXPECT_EQ(f.height, 90);
    ++frames;
  }
  EXPECT_EQ(frames, 3);
  SessionStats st;
  ASSERT_TRUE(loop.stats("s1", st));
  EXPECT_GE(st.frames_delivered, 3u);
}

TEST_F(RenderLoopTest, ASlowReaderGetsDropsAndHoldsAtMostOneFrame) {
  RenderLoop loop(small(60));
  loop.load_world("abbey@1", text);
  loop.open("s1", "abbey@1", "p1");
  SessionStats st;
  std::size_t most_held = 0;
  for (int i = 0; i < 5000; ++i) {  // poll until 40 frames were rendered and nobody read them
    ASSERT_TRUE(loop.stats("s1", st));
    most_held = std::max(most_held, st.bytes_held);
    if (st.frames_rendered >= 40) break;
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_GE(st.frames_rendered, 40u);
  EXPECT_EQ(st.frames_delivered, 0u);
  EXPECT_EQ(st.frames_dropped, st.frames_rendered - 1);
  // One JPEG of 160x90 plus the queued state message: far below 40 frames.
  EXPECT_LT(most_held, 64u * 1024u);
  Message m = loop.next("s1", 1000ms);  // the queued state comes first, then the newest frame
  EXPECT_EQ(m.kind, Message::Kind::kEvent);
  m = loop.next("s1", 1000ms);
  EXPECT_EQ(m.kind, Message::Kind::kFrame);
}

TEST_F(RenderLoopTest, AHotkeyFiresThenAStateMessageFollows) {
  RenderLoop loop(small());
  loop.load_world("abbey@1", text);
  loop.open("s1", "abbey@1", "p1");
  next_event(loop, "s1");
  EXPECT_EQ(loop.key("s1", "e"), "ok");
  Json fired = next_event(loop, "s1");
  EXPECT_EQ(fired["type"], "fired");
  EXPECT_EQ(fired["event"], "Take the lantern");
  EXPECT_EQ(fired["kind"], "override");
  EXPECT_EQ(fired["duration"], 3.0);
  Json state = next_event(loop, "s1");
  EXPECT_EQ(state["type"], "state");
  EXPECT_EQ(state["flags"], Json::array({"lantern"}));
  EXPECT_EQ(state["override"], "Take the lantern");
}

TEST_F(RenderLoopTest, MovingTogglesTheStateMessage) {
  RenderLoop loop(small());
  loop.load_world("abbey@1", text);
  loop.open("s1", "abbey@1", "p1");
  next_event(loop, "s1");
  EXPECT_EQ(loop.move("s1", "W"), "ok");
  EXPECT_EQ(next_event(loop, "s1")["moving"], true);
  EXPECT_EQ(loop.move("s1", ""), "ok");
  EXPECT_EQ(next_event(loop, "s1")["moving"], false);
}

TEST_F(RenderLoopTest, ARefusedInputQueuesAnErrorAndTheSessionGoesOn) {
  RenderLoop loop(small());
  loop.load_world("abbey@1", text);
  loop.open("s1", "abbey@1", "p1");
  next_event(loop, "s1");
  EXPECT_EQ(loop.key("s1", "F"), "missing_flags");
  Json err = next_event(loop, "s1");
  EXPECT_EQ(err["type"], "error");
  EXPECT_EQ(err["code"], "refused");
  EXPECT_EQ(err["reason"], "missing_flags");
  EXPECT_EQ(loop.fire("s1", "Enter the nave"), "ok");
  next_event(loop, "s1");  // fired
  EXPECT_EQ(next_event(loop, "s1")["state"], "nave");
}

TEST_F(RenderLoopTest, PlayingToTheEndingDeliversTheEndingThenItsFrameThenEnded) {
  RenderLoop loop(small());
  loop.load_world("abbey@1", text);
  loop.open("s1", "abbey@1", "p1");
  for (const char* k : {"E", "F", "K", "U", "T"}) ASSERT_EQ(loop.key("s1", k), "ok") << k;
  Json ending;
  bool frame_after_ending = false;
  for (int i = 0; i < 500; ++i) {
    Message m = loop.next("s1", 5000ms);
    ASSERT_NE(m.kind, Message::Kind::kTimeout);
    ASSERT_NE(m.kind, Message::Kind::kClosed);
    if (m.kind == Message::Kind::kEvent) {
      Json j = Json::parse(m.text);
      if (j["type"] == "ending") ending = j;
    } else if (m.kind == Message::Kind::kFrame) {
      if (!ending.is_null()) frame_after_ending = true;
    } else {
      ASSERT_EQ(m.kind, Message::Kind::kEnded);
      break;
    }
  }
  ASSERT_FALSE(ending.is_null());
  EXPECT_EQ(ending["kind"], "win");
  EXPECT_EQ(ending["title"], "The far shore");
  EXPECT_TRUE(frame_after_ending);
  EXPECT_EQ(loop.key("s1", "R"), "ended");
  SessionStats st;
  ASSERT_TRUE(loop.stats("s1", st));
  EXPECT_TRUE(st.ended);
}

TEST_F(RenderLoopTest, CloseFreesTheSessionAndWakesAWaitingReader) {
  RenderLoopOptions o = small(1);  // slow ticks: the reader below is waiting, not reading frames
  RenderLoop loop(o);
  loop.load_world("abbey@1", text);
  loop.open("s1", "abbey@1", "p1");
  next_event(loop, "s1");
  while (loop.next("s1", 0ms).kind == Message::Kind::kFrame) {
  }
  Message got;
  std::thread reader([&] {
    for (;;) {
      got = loop.next("s1", 30000ms);
      if (got.kind != Message::Kind::kFrame) return;
    }
  });
  SessionStats final_stats;
  EXPECT_TRUE(loop.close("s1", &final_stats));
  reader.join();
  EXPECT_EQ(got.kind, Message::Kind::kClosed);
  EXPECT_GT(final_stats.seconds, 0.0);
  EXPECT_FALSE(loop.close("s1"));
  SessionStats st;
  EXPECT_FALSE(loop.stats("s1", st));
  EXPECT_EQ(loop.stats().sessions, 0u);
  EXPECT_EQ(loop.key("s1", "E"), "closed");
  EXPECT_EQ(loop.next("s1", 0ms).kind, Message::Kind::kClosed);
}

TEST_F(RenderLoopTest, SessionsSpreadOverThreadsAllGetFrames) {
  RenderLoopOptions o = small();
  o.threads = 3;
  RenderLoop loop(o);
  loop.load_world("abbey@1", text);
  for (int i = 0; i < 6; ++i) loop.open("s" + std::to_string(i), "abbey@1", "p" + std::to_string(i));
  for (int i = 0; i < 6; ++i) {
    bool frame = false;
    for (int k = 0; k < 50 && !frame; ++k) {
      Message m = loop.next("s" + std::to_string(i), 5000ms);
      ASSERT_NE(m.kind, Message::Kind::kTimeout);
      frame = m.kind == Message::Kind::kFrame;
    }
    EXPECT_TRUE(frame) << i;
  }
  EXPECT_EQ(loop.session_ids().size(), 6u);
  loop.stop();
  EXPECT_EQ(loop.stats().sessions, 0u);
  EXPECT_EQ(loop.next("s0", 0ms).kind, Message::Kind::kClosed);
}

TEST_F(RenderLoopTest, RefusesBadOptionsUnknownWorldsDuplicatesAndUnplayableWorlds) {
  RenderLoopOptions bad = small();
  bad.threads = 0;
  EXPECT_THROW(RenderLoop{bad}, conjure::Error);
  bad = small();
  bad.width = 10;
  EXPECT_THROW(RenderLoop{bad}, conjure::Error);
  RenderLoopOptions few = small();
  few.max_sessions = 1;
  RenderLoop loop(few);
  EXPECT_THROW(loop.open("s1", "nope", "p1"), conjure::Error);
  loop.load_world("abbey@1", text);
  EXPECT_TRUE(loop.has_world("abbey@1"));
  loop.open("s1", "abbey@1", "p1");
  try {
    loop.open("s1", "abbey@1", "p1");
    FAIL() << "a second open of one id";
  } catch (const conjure::Error& e) {
    EXPECT_EQ(e.code(), conjure::ErrorCode::kConflict);
  }
  try {
    loop.open("s2", "abbey@1", "p1");
    FAIL() << "past max_sessions";
  } catch (const conjure::Error& e) {
    EXPECT_EQ(e.code(), conjure::ErrorCode::kLimit);
  }
  EXPECT_THROW(loop.load_world("bad", "{\"schemaVersion\":\"1.0\",\"name\":\"x\"}"), conjure::Error);
  EXPECT_THROW(loop.load_world("bad", "{not json"), conjure::Error);
}

TEST_F(RenderLoopTest, AFullEventQueueDropsTheOldestAndCountsThem) {
  RenderLoopOptions o = small(1);
  o.max_events = 8;
  RenderLoop loop(o);
  loop.load_world("abbey@1", text);
  loop.open("s1", "abbey@1", "p1");
  for (int i = 0; i < 20; ++i) loop.move("s1", i % 2 ? "" : "W");
  SessionStats st;
  ASSERT_TRUE(loop.stats("s1", st));
  EXPECT_EQ(st.events_queued, 8u);
  EXPECT_EQ(st.events_dropped, 13u);  // 1 entrance state + 20 moves, 8 kept
}

}  // namespace
