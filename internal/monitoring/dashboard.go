package monitoring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// Dashboard is the part of a Grafana dashboard JSON model these checks read.
// Decoding is strict on the objects that carry queries (panels, targets,
// templating) and lax on per-panel-type settings (fieldConfig, options),
// which Grafana owns.
type Dashboard struct {
	UID           string            `json:"uid"`
	Title         string            `json:"title"`
	Description   string            `json:"description"`
	Tags          []string          `json:"tags"`
	Editable      bool              `json:"editable"`
	GraphTooltip  int               `json:"graphTooltip"`
	Refresh       string            `json:"refresh"`
	SchemaVersion int               `json:"schemaVersion"`
	Version       int               `json:"version"`
	Time          map[string]string `json:"time"`
	Timepicker    json.RawMessage   `json:"timepicker"`
	Timezone      string            `json:"timezone"`
	Annotations   json.RawMessage   `json:"annotations"`
	Links         json.RawMessage   `json:"links"`
	Templating    struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Variable is one templating variable.
type Variable struct {
	Name       string          `json:"name"`
	Label      string          `json:"label"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"` // a string (datasource type) or {query, refId}
	Definition string          `json:"definition"`
	Datasource *Datasource     `json:"datasource"`
	Current    json.RawMessage `json:"current"`
	Hide       int             `json:"hide"`
	Refresh    int             `json:"refresh"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Multi      bool            `json:"multi"`
	Regex      string          `json:"regex"`
	Sort       int             `json:"sort"`
	Options    json.RawMessage `json:"options"`
}

// Datasource is a panel's, target's or variable's data source reference.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel is one dashboard panel.
type Panel struct {
	ID          int             `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  *Datasource     `json:"datasource"`
	GridPos     GridPos         `json:"gridPos"`
	FieldConfig json.RawMessage `json:"fieldConfig"`
	Options     json.RawMessage `json:"options"`
	Targets     []Target        `json:"targets"`
}

// GridPos places a panel on Grafana's 24-column grid.
type GridPos struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Target is one query of a panel.
type Target struct {
	RefID        string      `json:"refId"`
	Datasource   *Datasource `json:"datasource"`
	Expr         string      `json:"expr"`
	LegendFormat string      `json:"legendFormat"`
	Format       string      `json:"format"`
	Range        bool        `json:"range"`
	Instant      bool        `json:"instant"`
}

// LoadDashboard reads and strictly decodes a dashboard JSON file.
func LoadDashboard(path string) (*Dashboard, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("monitoring: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d Dashboard
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("monitoring: %s: %w", path, err)
	}
	return &d, nil
}

// Query is one PromQL expression of the dashboard or the rules, named for
// error messages.
type Query struct {
	Where string // "panel 3 \"Hit ratio\" A", "alert RingcacheNodeDown"
	Expr  string // as written, Grafana variables included
}

// Queries lists every target expression of the dashboard.
func (d *Dashboard) Queries() []Query {
	var qs []Query
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			qs = append(qs, Query{Where: fmt.Sprintf("panel %d %q %s", p.ID, p.Title, t.RefID), Expr: t.Expr})
		}
	}
	return qs
}
