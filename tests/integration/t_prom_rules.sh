#!/bin/bash
# t_prom_rules.sh - the Prometheus alerting rules and Grafana dashboard
# in conf/: promtool check rules, promtool test rules (the unit tests
# in tests/prometheus/alerts_test.yml), and the dashboard's queries name
# only series the daemon or the reporter exports.  No lab needed.
. "$(dirname "$0")/../lib.sh"
RULES=$ROOT/conf/prometheus/sts-milter-alerts.yml
DASH=$ROOT/conf/grafana/sts-milter-dashboard.json
command -v promtool >/dev/null || { fail "promtool installed (tests/deps.sh: prometheus)"; done_tests t_prom_rules; exit 1; }

OUT=$(promtool check rules "$RULES" 2>&1)
expect_match "promtool check rules" "$OUT" 'SUCCESS: [0-9]+ rules found'
OUT=$(cd "$ROOT/tests/prometheus" && promtool test rules alerts_test.yml 2>&1)
expect_match "promtool test rules (tests/prometheus/alerts_test.yml)" "$OUT" '^  SUCCESS$'
[ "$T_FAIL" -gt 0 ] && printf '%s\n' "$OUT" | head -40

# every alert has a test that fires it
for a in $(sed -n 's/^ *- alert: //p' "$RULES"); do
	expect_match "alert $a is tested" "$(grep -A3 "alertname: $a\$" "$ROOT/tests/prometheus/alerts_test.yml")" 'exp_labels'
done

# the dashboard and the rules: valid, and every series they query is one
# README.md "Monitoring" lists (t_metrics.sh checks that list against
# what the daemon and the reporter export)
ok "dashboard is valid JSON with panels" jq -e '.panels | length > 0' "$DASH"
known=$(sed -n '/^## Monitoring/,/^## Benchmarks/p' "$ROOT/README.md" | grep -o '^| `sts_milter_[a-z_]*`' | tr -d '|` ')
expect_match "README lists the daemon's and the reporter's series" "$(echo $known)" 'sts_milter_build_info .*sts_milter_reporter_retries_pending'
for s in $( { jq -r '.. | .expr? // empty' "$DASH"; sed -n 's/^ *expr: //p; /^ *expr: |/,/^ *for:/p' "$RULES"; } |
    grep -o 'sts_milter_[a-z_]*' | sort -u); do
	expect_match "series $s (dashboard, rules) is in README" "$known" "^$s\$"
done
done_tests t_prom_rules
