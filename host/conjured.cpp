// conjured: the native host. It embeds CPython and serves the same FastAPI app as
// `conjure serve`, with the same settings (CONJURE_* and CONJURE_CONFIG).
//
//   1. The interpreter starts as the Python conjured was built against (or --python,
//      or CONJURE_PYTHON), so it finds that environment's packages (a venv's pyvenv.cfg).
//   2. conjure.server.host.resolve() reads the settings, applies the flags, creates the
//      data directory and the server secret, and names the address and worker count.
//   3. The listening socket is opened here, in C++, and its address printed on stderr:
//          conjured: listening on 127.0.0.1:41234 (pid 1234, 2 workers)
//   4. One worker serves in this process. With --workers N > 1 this process forks N
//      workers that share the socket (each calls conjure.server.host.serve_socket) and
//      supervises them: a worker that dies is replaced (with a growing delay when it
//      keeps dying young); SIGTERM or SIGINT is passed on as SIGTERM, every worker
//      drains its in-flight requests, and conjured exits 0 once all have stopped.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <pybind11/embed.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace py = pybind11;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kStartupFailure = 3;       // a worker whose app never started (conjure.server.runner)
constexpr int kMaxWorkers = 64;          // as Settings.workers
constexpr int kGiveUpAfterFailures = 5;  // startup failures in a row on one slot

struct Options {
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<std::string> data_dir;
  std::optional<int> workers;
  std::string python = CONJURE_HOST_PYTHON;
};
// Flags that are settings read by every worker: exported as their CONJURE_* variable.
constexpr const char* kRedisUrlEnv = "CONJURE_REDIS_URL";

void usage(FILE* out) {
  std::fprintf(out,
               "usage: conjured [--host HOST] [--port PORT] [--data-dir DIR] [--workers N] [--python PATH]\n"
               "                [--redis-url URL]\n"
               "\n"
               "Serves the conjure HTTP API (the same app as `conjure serve`) from a native host.\n"
               "Settings come from CONJURE_* environment variables and the TOML file named by\n"
               "CONJURE_CONFIG, as for `conjure serve`; the flags override them.\n"
               "\n"
               "  --host HOST     address to listen on (default: $CONJURE_HOST or 127.0.0.1)\n"
               "  --port PORT     port, 0 for any free one (default: $CONJURE_PORT or 8000);\n"
               "                  the bound address is printed on stderr:\n"
               "                  conjured: listening on HOST:PORT (pid P, N workers)\n"
               "  --data-dir DIR  data directory (default: $CONJURE_DATA_DIR or ./.conjure-data)\n"
               "  --workers N     worker processes sharing the socket, 1 to %d\n"
               "                  (default: $CONJURE_WORKERS or 1)\n"
               "  --python PATH   the Python interpreter whose environment is embedded\n"
               "                  (default: $CONJURE_PYTHON, else %s)\n"
               "  --redis-url URL Redis shared by every process of a deployment\n"
               "                  (default: $CONJURE_REDIS_URL; docs/deploy.md)\n"
               "\n"
               "SIGTERM or SIGINT: stop accepting, drain in-flight requests for up to\n"
               "shutdown_timeout_seconds, exit 0.\n",
               kMaxWorkers, CONJURE_HOST_PYTHON);
}

bool parse_int(const std::string& text, int lo, int hi, int* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
  *out = static_cast<int>(v);
  return true;
}

int bad_usage(const char* fmt, const std::string& arg) {
  std::fprintf(stderr, "conjured: ");
  std::fprintf(stderr, fmt, arg.c_str());
  std::fprintf(stderr, "\n(conjured --help for usage)\n");
  return kExitUsage;
}

// Returns -1 to go on, else the exit status (0 for --help, 2 for a bad command line).
int parse_args(int argc, char** argv, Options* o) {
  if (const char* env = std::getenv("CONJURE_PYTHON"); env && *env) o->python = env;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return kExitOk;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (name != "--host" && name != "--port" && name != "--data-dir" && name != "--workers" &&
        name != "--python" && name != "--redis-url") {
      return bad_usage("unknown option %s", arg);
    }
    if (!value) {
      if (i + 1 >= argc) return bad_usage("%s needs a value", name);
      value = argv[++i];
    }
    int number = 0;
    if (name == "--host") {
      if (value->empty()) return bad_usage("%s needs a value", name);
      o->host = *value;
    } else if (name == "--port") {
      if (!parse_int(*value, 0, 65535, &number)) return bad_usage("--port takes a number from 0 to 65535, not '%s'", *value);
      o->port = number;
    } else if (name == "--redis-url") {
      if (value->empty()) return bad_usage("%s needs a value", name);
      setenv(kRedisUrlEnv, value->c_str(), 1);  // validated with the other settings, in every worker
    } else if (name == "--data-dir") {
      if (value->empty()) return bad_usage("%s needs a value", name);
      o->data_dir = *value;
    } else if (name == "--workers") {
      if (!parse_int(*value, 1, kMaxWorkers, &number)) {
        return bad_usage(("--workers takes a number from 1 to " + std::to_string(kMaxWorkers) + ", not '%s'").c_str(),
                         *value);
      }
      o->workers = number;
    } else {
      if (access(value->c_str(), X_OK) != 0) return bad_usage("--python: no executable at %s", *value);
      o->python = *value;
    }
  }
  if (access(o->python.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "conjured: no Python interpreter at %s (set --python or CONJURE_PYTHON)\n", o->python.c_str());
    return kExitUsage;
  }
  return -1;
}

// Starts the embedded interpreter as `python`, so that it takes that interpreter's
// environment: its prefix, a venv's pyvenv.cfg and site-packages, PYTHON* variables.
void start_python(const Options& o, std::optional<py::scoped_interpreter>* interpreter) {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.parse_argv = 0;
  config.install_signal_handlers = 1;
  PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, o.python.c_str());
  if (PyStatus_Exception(status)) {
    PyConfig_Clear(&config);
    throw std::runtime_error("cannot use " + o.python + " as the Python program");
  }
  static const char* const kArgv[] = {"conjured"};
  // The interpreter clears the config; no program directory goes on sys.path.
  interpreter->emplace(&config, 1, kArgv, false);
}

void print_python_error(py::error_already_set& e) {
  e.restore();
  PyErr_Print();
}

void flush_python_streams() {
  try {
    py::module_ sys = py::module_::import("sys");
    for (const char* name : {"stdout", "stderr"}) {
      py::object stream = sys.attr(name);
      if (!stream.is_none()) stream.attr("flush")();
    }
  } catch (py::error_already_set& e) {
    PyErr_Clear();
  }
}

// Opens, binds and listens; returns the fd (close-on-exec) or -1 with a message printed.
int open_listener(const std::string& host, int port, int* bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    std::fprintf(stderr, "conjured: cannot resolve %s: %s\n", host.c_str(), gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 2048) == 0) break;
    last_error = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    std::fprintf(stderr, "conjured: cannot listen on %s:%d: %s\n", host.c_str(), port, last_error.c_str());
    return -1;
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    std::fprintf(stderr, "conjured: getsockname: %s\n", std::strerror(errno));
    close(fd);
    return -1;
  }
  *bound_port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd;
}

// Runs the app in this process on the listening socket; returns the exit status.
int serve_here(int fd, const std::string& host, int port) {
  try {
    py::object rc = py::module_::import("conjure.server.host").attr("serve_socket")(fd, host, port);
    flush_python_streams();
    return rc.is_none() ? kExitOk : rc.cast<int>();
  } catch (py::error_already_set& e) {
    print_python_error(e);
    flush_python_streams();
    return kExitFailure;
  }
}

using Clock = std::chrono::steady_clock;

struct Slot {
  pid_t pid = 0;                // 0: not running
  Clock::time_point started;
  Clock::time_point restart_at;  // when pid == 0 and not stopping
  int quick_failures = 0;       // deaths within kHealthyAfter, in a row
  int startup_failures = 0;     // exits with kStartupFailure, in a row
};

constexpr auto kHealthyAfter = std::chrono::seconds(10);
constexpr auto kMaxDelay = std::chrono::seconds(30);

std::string describe(int wstatus) {
  if (WIFSIGNALED(wstatus)) return "killed by signal " + std::to_string(WTERMSIG(wstatus));
  return "exit status " + std::to_string(WEXITSTATUS(wstatus));
}

class Supervisor {
 public:
  Supervisor(int fd, std::string host, int port, int workers, sigset_t child_mask)
      : fd_(fd), host_(std::move(host)), port_(port), slots_(workers), child_mask_(child_mask) {}

  int run() {
    sigset_t waited;
    sigemptyset(&waited);
    sigaddset(&waited, SIGTERM);
    sigaddset(&waited, SIGINT);
    sigaddset(&waited, SIGCHLD);
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!spawn(i)) {
        stop(SIGTERM);
        exit_code_ = kExitFailure;
        break;
      }
    }
    while (running() > 0 || (!stopping_ && !slots_.empty())) {
      reap();
      if (stopping_ && running() == 0) break;
      if (!stopping_) restart_due();
      auto wait = std::chrono::milliseconds(1000);
      if (!stopping_) {
        for (const Slot& s : slots_) {
          if (s.pid == 0) {
            auto until = std::chrono::duration_cast<std::chrono::milliseconds>(s.restart_at - Clock::now());
            wait = std::clamp(until, std::chrono::milliseconds(0), wait);
          }
        }
      }
      timespec ts{static_cast<time_t>(wait.count() / 1000), static_cast<long>((wait.count() % 1000) * 1000000)};
      int sig = sigtimedwait(&waited, nullptr, &ts);
      if (sig == SIGTERM || sig == SIGINT) stop(sig);
    }
    if (fd_ >= 0) close(fd_);
    return exit_code_;
  }

 private:
  size_t running() const {
    return static_cast<size_t>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.pid != 0; }));
  }

  bool spawn(size_t slot) {
    PyOS_BeforeFork();
    pid_t pid = fork();
    if (pid < 0) {
      PyOS_AfterFork_Parent();
      std::fprintf(stderr, "conjured: fork: %s\n", std::strerror(errno));
      return false;
    }
    if (pid == 0) {
      PyOS_AfterFork_Child();
#ifdef __linux__
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // an orphaned worker drains and stops
      if (getppid() == 1) std::_Exit(kExitFailure);
#endif
      signal(SIGTERM, SIG_DFL);
      signal(SIGCHLD, SIG_DFL);
      sigprocmask(SIG_SETMASK, &child_mask_, nullptr);
      int code = serve_here(fd_, host_, port_);
      std::fflush(nullptr);
      std::_Exit(code);
    }
    PyOS_AfterFork_Parent();
    slots_[slot].pid = pid;
    slots_[slot].started = Clock::now();
    return true;
  }

  void stop(int sig) {
    // The first stop signal asks every worker to drain (SIGTERM, even for a SIGINT:
    // uvicorn takes a second SIGINT as "stop now"); a second SIGINT is passed on as is.
    int forward = (stopping_ && sig == SIGINT) ? SIGINT : SIGTERM;
    if (!stopping_) {
      std::fprintf(stderr, "conjured: signal %d: stopping %zu worker(s)\n", sig, running());
    }
    if (!stopping_ && fd_ >= 0) {
      close(fd_);  // the workers close their copies as they drain: the port stops accepting
      fd_ = -1;
    }
    stopping_ = true;
    for (const Slot& s : slots_) {
      if (s.pid != 0) kill(s.pid, forward);
    }
  }

  void reap() {
    int wstatus = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
      auto it = std::find_if(slots_.begin(), slots_.end(), [pid](const Slot& s) { return s.pid == pid; });
      if (it == slots_.end()) continue;
      it->pid = 0;
      size_t slot = static_cast<size_t>(it - slots_.begin());
      bool clean = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
      if (stopping_) {
        if (!clean) {
          std::fprintf(stderr, "conjured: worker %zu (pid %d) stopped with %s\n", slot, pid, describe(wstatus).c_str());
          exit_code_ = kExitFailure;
        }
        continue;
      }
      on_death(slot, pid, wstatus);
    }
  }

  void on_death(size_t slot, pid_t pid, int wstatus) {
    Slot& s = slots_[slot];
    auto lived = Clock::now() - s.started;
    if (lived >= kHealthyAfter) s.quick_failures = 0, s.startup_failures = 0;
    ++s.quick_failures;
    bool startup = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == kStartupFailure;
    s.startup_failures = startup ? s.startup_failures + 1 : 0;
    if (s.startup_failures >= kGiveUpAfterFailures) {
      std::fprintf(stderr, "conjured: worker %zu failed to start %d times in a row; stopping\n", slot,
                   s.startup_failures);
      exit_code_ = kExitFailure;
      stop(SIGTERM);
      return;
    }
    // The first death after a healthy run is replaced at once; deaths in a row wait
    // 1 s, 2 s, 4 s ... up to 30 s, so a crashing worker never spins.
    auto delay = std::chrono::seconds(0);
    if (s.quick_failures > 1) {
      delay = std::min<std::chrono::seconds>(kMaxDelay, std::chrono::seconds(1LL << std::min(s.quick_failures - 2, 5)));
    }
    s.restart_at = Clock::now() + delay;
    std::fprintf(stderr, "conjured: worker %zu (pid %d) died (%s); replacing it in %llds\n", slot, pid,
                 describe(wstatus).c_str(), static_cast<long long>(delay.count()));
  }

  void restart_due() {
    auto now = Clock::now();
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].pid == 0 && slots_[i].restart_at <= now && !spawn(i)) {
        slots_[i].restart_at = now + std::chrono::seconds(1);
      }
    }
  }

  int fd_;
  std::string host_;
  int port_;
  std::vector<Slot> slots_;
  sigset_t child_mask_;
  bool stopping_ = false;
  int exit_code_ = kExitOk;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (int rc = parse_args(argc, argv, &o); rc >= 0) return rc;

  std::optional<py::scoped_interpreter> interpreter;
  try {
    start_python(o, &interpreter);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conjured: cannot start Python (%s): %s\n", o.python.c_str(), e.what());
    return kExitFailure;
  }

  std::string host;
  int port = 0;
  int workers = 1;
  try {
    py::module_ hostmod = py::module_::import("conjure.server.host");
    py::object resolved = hostmod.attr("resolve")(o.host ? py::cast(*o.host) : py::none(),
                                                  o.port ? py::cast(*o.port) : py::none(),
                                                  o.workers ? py::cast(*o.workers) : py::none(),
                                                  o.data_dir ? py::cast(*o.data_dir) : py::none());
    std::tie(host, port, workers) = resolved.cast<std::tuple<std::string, int, int>>();
  } catch (py::error_already_set& e) {
    bool import_failed = e.matches(PyExc_ImportError);
    // The exception's type and message, without pybind11's traceback lines.
    std::string message = py::str(e.type().attr("__name__")).cast<std::string>() + ": " +
                          py::str(e.value()).cast<std::string>();
    if (import_failed) {
      std::fprintf(stderr,
                   "conjured: cannot import conjure with %s: %s\n"
                   "(point --python or CONJURE_PYTHON at the interpreter of the environment conjure is installed in)\n",
                   o.python.c_str(), message.c_str());
      return kExitFailure;
    }
    std::fprintf(stderr, "conjured: invalid settings: %s\n", message.c_str());
    return kExitUsage;
  }
  if (workers < 1 || workers > kMaxWorkers) {
    std::fprintf(stderr, "conjured: workers must be from 1 to %d, not %d\n", kMaxWorkers, workers);
    return kExitUsage;
  }

  // The supervisor takes its signals synchronously (sigtimedwait), so they are blocked
  // before any worker exists; workers get the original mask back.
  sigset_t original_mask;
  if (workers > 1) {
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGCHLD);
    sigprocmask(SIG_BLOCK, &blocked, &original_mask);
  }

  int bound_port = 0;
  int fd = open_listener(host, port, &bound_port);
  if (fd < 0) return kExitFailure;
  std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::fprintf(stderr, "conjured: listening on %s:%d (pid %d, %d worker%s)\n", shown.c_str(), bound_port,
               static_cast<int>(getpid()), workers, workers == 1 ? "" : "s");
  std::fflush(stderr);

  if (workers == 1) return serve_here(fd, host, bound_port);  // the server owns and closes fd
  Supervisor supervisor(fd, host, bound_port, workers, original_mask);
  int code = supervisor.run();
  flush_python_streams();
  return code;
}
