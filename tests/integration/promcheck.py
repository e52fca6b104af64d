#!/usr/bin/python3
"""promcheck.py: checks a Prometheus text exposition (format 0.0.4) line by line, then prints the
value of each series asked for.

usage: promcheck.py FILE [SERIES...]
  SERIES is name or name{label="value",...} (label order does not matter); its value is printed
  on its own line, or "absent". Exit 1, with one line per problem on stderr, if the text breaks
  the format:
  - every line is a HELP, a TYPE, another comment, or a sample; the text ends with a newline;
  - metric and label names match the format's regexes; label values are quoted and use only the
    escapes \\\\, \\" and \\n; values parse as floats (or +Inf, -Inf, NaN);
  - a family's HELP and TYPE come before its samples, once each; TYPE is a known type; a family's
    samples are contiguous; no series appears twice;
  - counters are not negative; a histogram has, per label set, buckets sorted by le with
    cumulative counts, a +Inf bucket equal to _count, and a _sum.
Written for this project's tests on the standard library only (no PyPI)."""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


class Problem(Exception):
    pass


def parse_float(text):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise Problem("value %r is not a float" % text)
    return float(text)


def parse_labels(text, i):
    """Parses {a="x",b="y"} starting at text[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if text[i:i + 1] == "}":
            return labels, i + 1
        m = LABEL.match(text, i)
        if not m:
            raise Problem("bad label name at column %d" % (i + 1))
        name = m.group(0)
        i = m.end()
        if text[i:i + 2] != '="':
            raise Problem("label %s: expected =\" at column %d" % (name, i + 1))
        i += 2
        value = []
        while True:
            if i >= len(text):
                raise Problem("label %s: unterminated value" % name)
            c = text[i]
            if c == "\\":
                esc = text[i + 1:i + 2]
                if esc not in ("\\", '"', "n"):
                    raise Problem("label %s: bad escape \\%s" % (name, esc))
                value.append("\n" if esc == "n" else esc)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise Problem("label %s: raw newline in value" % name)
            else:
                value.append(c)
                i += 1
        if name in labels:
            raise Problem("label %s given twice" % name)
        labels[name] = "".join(value)
        if text[i:i + 1] == ",":
            i += 1
        elif text[i:i + 1] != "}":
            raise Problem("expected , or } at column %d" % (i + 1))


def parse_sample(line):
    m = NAME.match(line)
    if not m:
        raise Problem("bad metric name")
    name, i = m.group(0), m.end()
    labels = {}
    if line[i:i + 1] == "{":
        labels, i = parse_labels(line, i)
    rest = line[i:]
    if not rest.startswith(" "):
        raise Problem("expected a space before the value")
    parts = rest.split()
    if len(parts) not in (1, 2):
        raise Problem("expected a value and an optional timestamp")
    value = parse_float(parts[0])
    if len(parts) == 2 and not re.fullmatch(r"-?\d+", parts[1]):
        raise Problem("timestamp %r is not an integer" % parts[1])
    return name, labels, value


def family_of(name, types):
    for fam, typ in types.items():
        if name == fam or any(name == fam + s for s in SUFFIXES.get(typ, ())):
            return fam
    return None


def check(text):
    """Returns (problems, samples) where samples maps (name, frozenset(labels)) to value."""
    problems = []
    helps, types, samples = set(), {}, {}
    order, done = [], set()  # families in the order their samples appear; families finished
    histograms = {}
    if not text.endswith("\n"):
        problems.append("the text does not end with a newline")
    for n, line in enumerate(text.split("\n")[:-1], 1):
        try:
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                    if len(parts) < 3 or not NAME.fullmatch(parts[2]):
                        raise Problem("%s without a valid metric name" % parts[1])
                    fam = parts[2]
                    if fam in done or (order and order[-1] == fam):
                        raise Problem("%s %s after its samples" % (parts[1], fam))
                    if parts[1] == "HELP":
                        if fam in helps:
                            raise Problem("second HELP for %s" % fam)
                        helps.add(fam)
                    else:
                        if fam in types:
                            raise Problem("second TYPE for %s" % fam)
                        if len(parts) < 4 or parts[3] not in TYPES:
                            raise Problem("TYPE %s: unknown type" % fam)
                        types[fam] = parts[3]
                continue
            if not line.strip():
                raise Problem("empty line")
            name, labels, value = parse_sample(line)
            fam = family_of(name, types)
            if fam is None or fam not in helps:
                raise Problem("sample %s before its family's HELP and TYPE" % name)
            if not order or order[-1] != fam:
                if fam in done:
                    raise Problem("samples of %s are not contiguous" % fam)
                if order:
                    done.add(order[-1])
                order.append(fam)
            key = (name, frozenset(labels.items()))
            if key in samples:
                raise Problem("series %s%s appears twice" % (name, labels))
            samples[key] = value
            if types[fam] == "counter" and not value >= 0:
                raise Problem("counter %s is %r" % (name, value))
            if types[fam] == "histogram":
                rest = frozenset((k, v) for k, v in labels.items() if k != "le")
                h = histograms.setdefault((fam, rest), {"buckets": [], "sum": None, "count": None})
                if name == fam + "_bucket":
                    if "le" not in labels:
                        raise Problem("bucket of %s without le" % fam)
                    h["buckets"].append((parse_float(labels["le"]), value))
                elif name == fam + "_sum":
                    h["sum"] = value
                elif name == fam + "_count":
                    h["count"] = value
                else:
                    raise Problem("histogram %s has a bare sample" % fam)
        except Problem as p:
            problems.append("line %d: %s: %s" % (n, p, line))
    for (fam, rest), h in histograms.items():
        where = "%s%s" % (fam, dict(rest))
        les = [le for le, _ in h["buckets"]]
        if les != sorted(les):
            problems.append("%s: buckets not in le order" % where)
        counts = [v for _, v in h["buckets"]]
        if any(b < a for a, b in zip(counts, counts[1:])):
            problems.append("%s: bucket counts are not cumulative" % where)
        if not les or les[-1] != math.inf:
            problems.append("%s: no +Inf bucket" % where)
        elif h["count"] != counts[-1]:
            problems.append("%s: +Inf bucket %r != _count %r" % (where, counts[-1], h["count"]))
        if h["sum"] is None:
            problems.append("%s: no _sum" % where)
    return problems, samples


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    problems, samples = check(text)
    for p in problems:
        print("promcheck: " + p, file=sys.stderr)
    for query in sys.argv[2:]:
        try:
            name, labels = parse_sample(query + " 0")[:2]
        except Problem as p:
            sys.exit("promcheck: bad series %r: %s" % (query, p))
        value = samples.get((name, frozenset(labels.items())))
        print("absent" if value is None
              else "%d" % value if math.isfinite(value) and value == int(value) else repr(value))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
