package connectivity

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"", ""},
		{"http://127.0.0.1:7373", "http://127.0.0.1:7373"},
		{"HTTPS://Ctl.Example.com", "HTTPS://Ctl.Example.com"},
		{"postgres://swarm@db/swarm?sslmode=require", "postgres://swarm@db/swarm?sslmode=require"},
		// userinfo
		{"postgres://swarm:hunter2@db/swarm", "postgres://swarm:xxxxx@db/swarm"},
		{"postgres://swarm:hun%40ter2@db/swarm", "postgres://swarm:xxxxx@db/swarm"},
		{"postgres://swarm:@db/swarm", "postgres://swarm:xxxxx@db/swarm"},
		// query parameters, in place, case-insensitive, every one listed
		{"postgres://db/swarm?sslmode=require&password=hunter2&user=swarm", "postgres://db/swarm?sslmode=require&password=xxxxx&user=swarm"},
		{"https://h/?PassWord=hunter2&TOKEN=hunter2", "https://h/?PassWord=xxxxx&TOKEN=xxxxx"},
		{"https://h/?sslpassword=1&access_token=2&secret=3&sig=4&signature=5&key=6&apikey=7&api_key=8&client_secret=9",
			"https://h/?sslpassword=xxxxx&access_token=xxxxx&secret=xxxxx&sig=xxxxx&signature=xxxxx&key=xxxxx&apikey=xxxxx&api_key=xxxxx&client_secret=xxxxx"},
		{"https://h/?X-Amz-Signature=hunter2&X-Amz-Security-Token=hunter2", "https://h/?X-Amz-Signature=xxxxx&X-Amz-Security-Token=xxxxx"},
		{"https://h/?password=hunter2&password=hunter3", "https://h/?password=xxxxx&password=xxxxx"},
		{"https://h/?pass%77ord=hunter2", "https://h/?pass%77ord=xxxxx"},
		{"https://h/?%zz=hunter2", "https://h/?%zz=xxxxx"},
		{"https://h/?a=1;password=hunter2", "https://h/?a=1;password=xxxxx"},
		{"https://h/?keyring=1&tokens&key=", "https://h/?keyring=1&tokens&key=xxxxx"},
		// fragment
		{"https://h/#access_token=hunter2", "https://h/#xxxxx"},
		// unparseable or not an absolute URL: hidden as a whole
		{"host=db user=swarm password=hunter2", Hidden},
		{"postgres://swarm:hun#ter2@db/swarm", Hidden},
		{"postgres://swarm:hun/ter2@db/swarm", Hidden},
		{"postgres://swarm:hunter2@db/swarm%zz", Hidden},
		{"postgres:swarm:hunter2@db", Hidden},
		{"http://u:hunter2@[::1", Hidden},
		{"https://h/?password=hunter2\n", Hidden},
		{"//swarm:hunter2@db/swarm", Hidden},
		{"https://h/?password=" + strings.Repeat("x", MaxValueBytes), Hidden},
	}
	for _, tt := range tests {
		t.Run(tt.raw[:min(len(tt.raw), 60)], func(t *testing.T) {
			t.Parallel()
			got := Redact(tt.raw)
			if got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.raw, got, tt.want)
			}
			if strings.Contains(got, "hunter") {
				t.Errorf("Redact(%q) shows the secret: %q", tt.raw, got)
			}
		})
	}
}
