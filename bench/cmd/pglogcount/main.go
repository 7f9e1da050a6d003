// Command pglogcount cuts a PostgreSQL server log into the windows that kgflow trace marked with
// SELECT 'kgmark begin|end STEP ROUND', and counts, per request, the SQL statements the provider ran,
// its transactions, round trips and server-side time, and which statements repeat.
//
// The log must be written with log_min_duration_statement=0 (every statement with its duration) and a
// log_line_prefix of '%m [%p] %v ' (time, backend pid, virtual transaction id). pgx's extended
// protocol shows up as parse (first use of a statement on a connection), bind and execute lines; BEGIN
// and COMMIT as simple "statement:" lines.
//
//	pglogcount [-round N] [-detail] < server.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var (
	linePrefix = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[(\d+)\] \S+ (LOG|DETAIL|ERROR|STATEMENT|WARNING|FATAL|HINT|CONTEXT):  (.*)$`)
	durationRe = regexp.MustCompile(`(?s)^duration: ([\d.]+) ms  (?:(parse|bind|execute) [^:]*|statement): (.*)$`)
	markRe     = regexp.MustCompile(`kgmark (begin|end) (\S+) (\d+)`)
	spaces     = regexp.MustCompile(`\s+`)
	background *regexp.Regexp
)

type entry struct {
	pid   string
	level string
	text  string
}

type stmt struct {
	kind string // parse, bind, execute, simple
	ms   float64
	sql  string
}

type window struct {
	step       string
	round      int
	stmts      map[string][]stmt // by pid
	order      []string          // pids in order of first appearance
	errors     []string
	background []string // left out of the counts
}

func main() {
	round := flag.Int("round", -1, "the round to show in the table (default: the last one)")
	detail := flag.Bool("detail", true, "list each request's statements")
	exclude := flag.String("exclude", `FROM "signing_keys"|^-- ping|expires_at < `,
		"statements of serve's background work (key reload, expired-row clean-up, pool pings), left out of the counts")
	flag.Parse()
	background = regexp.MustCompile(*exclude)
	entries, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pglogcount:", err)
		os.Exit(1)
	}
	windows := cut(entries)
	if len(windows) == 0 {
		fmt.Fprintln(os.Stderr, "pglogcount: no kgmark windows in the log")
		os.Exit(1)
	}
	report(os.Stdout, windows, *round, *detail)
}

func read(r io.Reader) ([]entry, error) {
	var out []entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := linePrefix.FindStringSubmatch(line); m != nil {
			out = append(out, entry{pid: m[1], level: m[2], text: m[3]})
			continue
		}
		if len(out) > 0 { // a continuation line of a multi-line statement
			out[len(out)-1].text += "\n" + line
		}
	}
	return out, sc.Err()
}

func cut(entries []entry) []*window {
	var out []*window
	var cur *window
	markPID := ""
	for _, e := range entries {
		if m := markRe.FindStringSubmatch(e.text); m != nil && e.level == "LOG" && strings.Contains(e.text, "SELECT 'kgmark") {
			if strings.Contains(e.text, " bind ") || strings.Contains(e.text, " parse ") {
				continue // the execute or statement line is the marker
			}
			markPID = e.pid
			n, _ := strconv.Atoi(m[3])
			if m[1] == "begin" {
				cur = &window{step: m[2], round: n, stmts: map[string][]stmt{}}
				out = append(out, cur)
			} else {
				cur = nil
			}
			continue
		}
		if cur == nil || e.pid == markPID {
			continue
		}
		switch e.level {
		case "ERROR", "FATAL":
			cur.errors = append(cur.errors, firstLine(e.text))
			continue
		case "LOG":
		default:
			continue
		}
		d := durationRe.FindStringSubmatch(e.text)
		if d == nil {
			continue
		}
		ms, _ := strconv.ParseFloat(d[1], 64)
		kind := d[2]
		if kind == "" {
			kind = "simple"
		}
		if background.MatchString(normalize(d[3])) {
			if kind == "execute" || kind == "simple" {
				cur.background = append(cur.background, clip(normalize(d[3]), 80))
			}
			continue
		}
		if _, ok := cur.stmts[e.pid]; !ok {
			cur.order = append(cur.order, e.pid)
		}
		cur.stmts[e.pid] = append(cur.stmts[e.pid], stmt{kind: kind, ms: ms, sql: normalize(d[3])})
	}
	return out
}

type counts struct {
	statements, explicitTx, implicitTx, roundTrips, parses int
	ms                                                     float64
	bySQL                                                  map[string]*sqlCount
	sqlOrder                                               []string
}

type sqlCount struct {
	n  int
	ms float64
}

func (w *window) count() counts {
	c := counts{bySQL: map[string]*sqlCount{}}
	for _, pid := range w.order {
		inTx := false
		for _, s := range w.stmts[pid] {
			c.ms += s.ms
			switch s.kind {
			case "parse":
				c.parses++
				c.roundTrips++
				continue
			case "bind":
				continue // sent with its execute in one round trip
			}
			c.roundTrips++
			c.statements++
			upper := strings.ToUpper(s.sql)
			switch {
			case strings.HasPrefix(upper, "BEGIN"):
				c.explicitTx++
				inTx = true
			case strings.HasPrefix(upper, "COMMIT"), strings.HasPrefix(upper, "ROLLBACK"):
				inTx = false
			case !inTx:
				c.implicitTx++
			}
			sc, ok := c.bySQL[s.sql]
			if !ok {
				sc = &sqlCount{}
				c.bySQL[s.sql] = sc
				c.sqlOrder = append(c.sqlOrder, s.sql)
			}
			sc.n++
		}
		// Server time of a statement: its parse, bind and execute; attribute it to the SQL text.
		for _, s := range w.stmts[pid] {
			if sc, ok := c.bySQL[s.sql]; ok {
				sc.ms += s.ms
			}
		}
	}
	return c
}

func report(w io.Writer, windows []*window, round int, detail bool) {
	last := 0
	for _, win := range windows {
		last = max(last, win.round)
	}
	if round < 0 {
		round = last
	}
	// Are the rounds after the first alike? Say so, or which steps differ.
	byStep := map[string][]*window{}
	var steps []string
	for _, win := range windows {
		if _, ok := byStep[win.step]; !ok {
			steps = append(steps, win.step)
		}
		byStep[win.step] = append(byStep[win.step], win)
	}
	fmt.Fprintf(w, "Round %d (statements; BEGIN/COMMIT included):\n\n", round)
	fmt.Fprintln(w, "| request | SQL statements | transactions (explicit + single-statement) | round trips | parses | server time ms | statements in each round |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	for _, step := range steps {
		var pick *window
		var per []string
		for _, win := range byStep[step] {
			c := win.count()
			per = append(per, fmt.Sprintf("r%d:%d", win.round, c.statements))
			if win.round == round || (pick == nil && len(byStep[step]) == 1) {
				pick = win
			}
		}
		if pick == nil {
			continue
		}
		c := pick.count()
		fmt.Fprintf(w, "| %s | %d | %d + %d | %d | %d | %.3f | %s |\n", step, c.statements, c.explicitTx, c.implicitTx,
			c.roundTrips, c.parses, c.ms, strings.Join(per, " "))
	}
	if !detail {
		return
	}
	fmt.Fprintf(w, "\nStatements per request, round %d (count × SQL, server ms summed over parse/bind/execute):\n", round)
	for _, step := range steps {
		for _, win := range byStep[step] {
			if win.round != round && len(byStep[step]) > 1 {
				continue
			}
			c := win.count()
			fmt.Fprintf(w, "\n%s (round %d): %d statements, %.3f ms on the server\n", step, win.round, c.statements, c.ms)
			for _, q := range c.sqlOrder {
				sc := c.bySQL[q]
				mark := ""
				if sc.n > 1 {
					mark = "   <-- repeated"
				}
				fmt.Fprintf(w, "  %d × %-110s %7.3f ms%s\n", sc.n, clip(q, 110), sc.ms, mark)
			}
			for _, b := range win.background {
				fmt.Fprintf(w, "  (background, not counted: %s)\n", b)
			}
			for _, e := range win.errors {
				fmt.Fprintf(w, "  ERROR: %s\n", e)
			}
		}
	}
}

func normalize(sql string) string { return strings.TrimSpace(spaces.ReplaceAllString(sql, " ")) }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
