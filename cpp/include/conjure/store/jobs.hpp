// Durable jobs (store.hpp: the contract).
#pragma once
#include <optional>
#include <string>

#include "conjure/json.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/store/common.hpp"
#include "conjure/store/outbox.hpp"
#include "conjure/store/worlds.hpp"

namespace conjure {

struct Job {
  std::string id, app_id, mode, kind, status;  // queued | running | succeeded | failed
  Json payload, result;
  std::string error, worker, created_at, updated_at;
  int attempts = 0;
};
// What complete_generation_job wrote, in one transaction.
struct GenerationDone {
  Job job;           // succeeded, result {worldId, rev}
  GraphWrite world;  // the created world
  OutboxEvent event; // data {jobId, worldId, rev}
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  virtual Job create_job(const Scope& scope, const std::string& kind, const Json& payload) = 0;
  virtual Job get_job(const Scope& scope, const std::string& job_id) = 0;
  // Claims the oldest queued job (or a running one whose lease expired); nullopt when none.
  virtual std::optional<Job> claim_job(const std::string& worker, int lease_seconds) = 0;
  virtual Job complete_job(const std::string& job_id, const Json& result) = 0;
  virtual Job fail_job(const std::string& job_id, const std::string& error) = 0;
  // One transaction: creates `world` (gated, a new id) in the job's scope, queues
  // the event `event_type` {jobId, worldId, rev} and completes the job with the
  // result {worldId, rev}. kConflict (and nothing written) when the job already
  // ended; a gate refusal writes nothing either (GateFailed).
  virtual GenerationDone complete_generation_job(const std::string& job_id, const Json& world,
                                                 const std::string& event_type, const GateOptions& gate) = 0;
};

}  // namespace conjure
