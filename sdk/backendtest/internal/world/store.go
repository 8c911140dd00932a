package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// replica is one running copy of a service: one file in the world's
// directory, as a real platform's object would be.
type replica struct {
	Deployment string            `json:"deployment"`
	Service    string            `json:"service"`
	Name       string            `json:"name"`
	ID         string            `json:"id"`
	Config     string            `json:"config"`
	StartedAt  time.Time         `json:"started_at"`
	Restarts   int               `json:"restarts"`
	Stopped    bool              `json:"stopped,omitempty"`
	Env        map[string]string `json:"env,omitempty"`
}

// store holds the replicas of deployments, each deployment under a key.
type store interface {
	list(key string) ([]replica, error)
	put(key string, r replica) error
	remove(key, name string) error
}

// files keeps each replica as <dir>/<key>/<name>.json.
type files struct{ dir string }

func (f files) list(key string) ([]replica, error) {
	entries, err := os.ReadDir(filepath.Join(f.dir, key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list replicas: %w", err)
	}
	var out []replica
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(f.dir, key, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("read replica: %w", err)
		}
		var r replica
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("decode replica %s: %w", e.Name(), err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (f files) put(key string, r replica) error {
	dir := filepath.Join(f.dir, key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write replica: %w", err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode replica: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("write replica: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write replica: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write replica: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, r.Name+".json")); err != nil {
		return fmt.Errorf("write replica: %w", err)
	}
	return nil
}

func (f files) remove(key, name string) error {
	if err := os.Remove(filepath.Join(f.dir, key, name+".json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove replica: %w", err)
	}
	return nil
}

// memory keeps replicas in this process only: the "memory-state" breakage.
type memory struct {
	mu   sync.Mutex
	data map[string]map[string]replica
}

func (m *memory) list(key string) ([]replica, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []replica
	for _, name := range slices.Sorted(maps.Keys(m.data[key])) {
		out = append(out, m.data[key][name])
	}
	return out, nil
}

func (m *memory) put(key string, r replica) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data == nil {
		m.data = map[string]map[string]replica{}
	}
	if m.data[key] == nil {
		m.data[key] = map[string]replica{}
	}
	m.data[key][r.Name] = r
	return nil
}

func (m *memory) remove(key, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data[key], name)
	return nil
}
