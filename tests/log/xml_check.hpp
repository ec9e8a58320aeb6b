// A small strict XML 1.0 parser for tests: checks well-formedness (one root, matched tags,
// quoted and unique attributes, only the predefined or numeric entities, no stray '<' or '&')
// and returns the element tree, so SVG output can be inspected without a library.
#pragma once

#include <cctype>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace etna::test {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::vector<XmlElement> children;
  std::string text;  // the character data directly inside, entities decoded

  // Every element below this one (depth first) named `tag`.
  void collect(const std::string& tag, std::vector<const XmlElement*>& out) const {
    for (const auto& c : children) {
      if (c.name == tag) out.push_back(&c);
      c.collect(tag, out);
    }
  }
  std::vector<const XmlElement*> find_all(const std::string& tag) const {
    std::vector<const XmlElement*> out;
    collect(tag, out);
    return out;
  }
  std::string attr(const std::string& key) const {
    auto it = attributes.find(key);
    return it == attributes.end() ? std::string() : it->second;
  }
};

struct XmlError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class XmlParser {
 public:
  // Throws XmlError("offset N: problem") on the first violation.
  static XmlElement parse(const std::string& doc) {
    XmlParser p(doc);
    return p.document();
  }

 private:
  explicit XmlParser(const std::string& s) : s_(s) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw XmlError("offset " + std::to_string(i_) + ": " + what);
  }
  bool starts(const char* lit) const {
    return s_.compare(i_, std::char_traits<char>::length(lit), lit) == 0;
  }
  void expect(const char* lit) {
    if (!starts(lit)) fail(std::string("expected '") + lit + "'");
    i_ += std::char_traits<char>::length(lit);
  }
  bool space(char c) const { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  void skip_space() {
    while (i_ < s_.size() && space(s_[i_])) ++i_;
  }
  static bool name_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
           static_cast<unsigned char>(c) >= 0x80;
  }
  static bool name_char(char c) {
    return name_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  }
  std::string name() {
    if (i_ >= s_.size() || !name_start(s_[i_])) fail("expected a name");
    const std::size_t b = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    return s_.substr(b, i_ - b);
  }
  // After '&': one of the predefined entities or a character reference.
  std::string entity() {
    const std::size_t end = s_.find(';', i_);
    if (end == std::string::npos || end - i_ > 10) fail("unterminated entity reference");
    const std::string e = s_.substr(i_, end - i_);
    i_ = end + 1;
    if (e == "amp") return "&";
    if (e == "lt") return "<";
    if (e == "gt") return ">";
    if (e == "quot") return "\"";
    if (e == "apos") return "'";
    if (e.size() > 1 && e[0] == '#') {
      const bool hex = e[1] == 'x';
      const std::string digits = e.substr(hex ? 2 : 1);
      if (digits.empty()) fail("empty character reference");
      for (char c : digits)
        if (!(hex ? std::isxdigit(static_cast<unsigned char>(c))
                  : std::isdigit(static_cast<unsigned char>(c))))
          fail("bad character reference &" + e + ";");
      const unsigned long code = std::stoul(digits, nullptr, hex ? 16 : 10);
      return code < 0x80 ? std::string(1, static_cast<char>(code)) : std::string("?");
    }
    fail("undefined entity &" + e + ";");
  }
  void misc() {  // whitespace, comments and processing instructions between markup
    for (;;) {
      skip_space();
      if (starts("<!--")) comment();
      else if (starts("<?")) pi();
      else return;
    }
  }
  void comment() {
    expect("<!--");
    const std::size_t end = s_.find("--", i_);
    if (end == std::string::npos || s_.compare(end, 3, "-->") != 0)
      fail("comment with '--' inside or not terminated");
    i_ = end + 3;
  }
  void pi() {
    const std::size_t start = i_;
    expect("<?");
    std::string target = name();
    for (char& c : target) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (target == "xml" && start != 0) fail("XML declaration not at the start of the document");
    const std::size_t end = s_.find("?>", i_);
    if (end == std::string::npos) fail("unterminated processing instruction");
    i_ = end + 2;
  }
  XmlElement document() {
    if (starts("<?xml")) pi();
    misc();
    if (!starts("<")) fail("no root element");
    XmlElement root = element();
    misc();
    if (i_ != s_.size()) fail("content after the root element");
    return root;
  }
  XmlElement element() {
    expect("<");
    XmlElement e;
    e.name = name();
    for (;;) {
      const std::size_t before = i_;
      skip_space();
      if (starts("/>")) {
        i_ += 2;
        return e;
      }
      if (starts(">")) {
        ++i_;
        break;
      }
      if (i_ == before) fail("expected whitespace between attributes of <" + e.name + ">");
      const std::string key = name();
      skip_space();
      expect("=");
      skip_space();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) fail("unquoted attribute " + key);
      const char quote = s_[i_++];
      std::string value;
      while (i_ < s_.size() && s_[i_] != quote) {
        if (s_[i_] == '<') fail("'<' in attribute " + key);
        if (s_[i_] == '&') {
          ++i_;
          value += entity();
        } else {
          value += s_[i_++];
        }
      }
      if (i_ >= s_.size()) fail("unterminated attribute " + key);
      ++i_;
      if (!e.attributes.emplace(key, value).second)
        fail("attribute " + key + " repeated in <" + e.name + ">");
    }
    for (;;) {  // content
      if (i_ >= s_.size()) fail("<" + e.name + "> is not closed");
      if (starts("</")) {
        i_ += 2;
        const std::string closing = name();
        if (closing != e.name) fail("</" + closing + "> closes <" + e.name + ">");
        skip_space();
        expect(">");
        return e;
      }
      if (starts("<!--")) comment();
      else if (starts("<![CDATA[")) {
        const std::size_t end = s_.find("]]>", i_);
        if (end == std::string::npos) fail("unterminated CDATA");
        e.text += s_.substr(i_ + 9, end - i_ - 9);
        i_ = end + 3;
      } else if (starts("<?")) pi();
      else if (starts("<")) e.children.push_back(element());
      else if (s_[i_] == '&') {
        ++i_;
        e.text += entity();
      } else {
        if (starts("]]>")) fail("']]>' in character data");
        const unsigned char c = static_cast<unsigned char>(s_[i_]);
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') fail("control character in text");
        e.text += s_[i_++];
      }
    }
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

}  // namespace etna::test
