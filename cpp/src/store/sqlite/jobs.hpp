// Internal: durable jobs on SQLite.
#pragma once
#include "conjure/store/jobs.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

class SqliteJobs : public virtual JobStore {
 public:
  explicit SqliteJobs(Context& ctx) : ctx_(ctx) {}

  Job create_job(const Scope& scope, const std::string& kind, const Json& payload) override;
  Job get_job(const Scope& scope, const std::string& job_id) override;
  std::optional<Job> claim_job(const std::string& worker, int lease_seconds) override;
  Job complete_job(const std::string& job_id, const Json& result) override;
  Job fail_job(const std::string& job_id, const std::string& error) override;
  GenerationDone complete_generation_job(const std::string& job_id, const Json& world, const std::string& event_type,
                                         const GateOptions& gate) override;

 private:
  Job finish_job(const std::string& job_id, const char* status, const Json* result, const std::string& error);

  Context& ctx_;
};

}  // namespace conjure::sqlite
