# SPDX-License-Identifier: GPL-2.0-only
# Valid Prometheus exposition format (awk -f prom_wellformed.awk SCRAPE):
# every sample has a TYPE, every TYPE is known, names and values are
# well-formed, no name is declared twice; prints what is wrong, exits 1.
/^# TYPE / { if ($3 in type) { print "TYPE twice: " $3; bad = 1 }
	     type[$3] = $4
	     if ($4 !~ /^(counter|gauge|untyped|histogram)$/) { print "bad type: " $0; bad = 1 }
	     next }
/^# HELP / || /^$/ { next }
/^#/ { print "stray comment: " $0; bad = 1; next }
{ name = $1; sub(/\{.*/, "", name)
  # samples of a histogram: NAME_bucket, NAME_sum, NAME_count
  base = name; sub(/_(bucket|sum|count)$/, "", base)
  if (!(name in type) && type[base] == "histogram") name = base
  if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? [0-9.eE+-]+$/) { print "bad sample: " $0; bad = 1 }
  if (!(name in type)) { print "no TYPE for " name; bad = 1 }
  if (type[name] == "counter" && name !~ /_total$/) { print "counter without _total: " name; bad = 1 } }
END { exit bad }
