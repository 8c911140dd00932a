package awsemu

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

type logGroup struct {
	created   time.Time
	retention int
	tags      map[string]string
	streams   map[string][]LogEvent
}

// LogEvent is one line of a log stream.
type LogEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

// write appends a line to a stream of a group, if the group exists (a task
// whose group is missing logs nothing here).
func (l *logsState) write(group, stream string, at time.Time, msg string) {
	g := l.groups[group]
	if g == nil {
		return
	}
	if g.streams == nil {
		g.streams = map[string][]LogEvent{}
	}
	ms := at.UnixMilli()
	n := len(g.streams[stream])
	g.streams[stream] = append(g.streams[stream], LogEvent{LogStreamName: stream, Timestamp: ms, Message: msg, IngestionTime: ms,
		EventID: fmt.Sprintf("%020d%s%06d", ms, strings.ReplaceAll(stream, "/", ""), n)})
}

type logsState struct {
	groups map[string]*logGroup
}

func (l *logsState) handle(op string, body []byte) (any, *apiError) {
	switch op {
	case "CreateLogGroup":
		var in struct {
			LogGroupName string            `json:"logGroupName"`
			Tags         map[string]string `json:"tags"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		if in.LogGroupName == "" || len(in.LogGroupName) > 512 || strings.Trim(in.LogGroupName, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./#") != "" {
			return nil, errorf(400, "InvalidParameterException", "1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint", in.LogGroupName)
		}
		if _, ok := l.groups[in.LogGroupName]; ok {
			return nil, errorf(400, "ResourceAlreadyExistsException", "The specified log group already exists")
		}
		l.groups[in.LogGroupName] = &logGroup{created: time.Now(), tags: in.Tags}
		return nil, nil
	case "FilterLogEvents":
		var in struct {
			LogGroupName        string   `json:"logGroupName"`
			LogStreamNames      []string `json:"logStreamNames"`
			LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
			StartTime           *int64   `json:"startTime"`
			EndTime             *int64   `json:"endTime"`
			NextToken           string   `json:"nextToken"`
			Limit               int      `json:"limit"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		g := l.groups[in.LogGroupName]
		if g == nil {
			return nil, errorf(400, "ResourceNotFoundException", "The specified log group does not exist.")
		}
		if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
			return nil, errorf(400, "InvalidParameterException", "You cannot specify both LogStreamNames and LogStreamNamePrefix.")
		}
		var events []LogEvent
		for name, evs := range g.streams {
			if len(in.LogStreamNames) > 0 && !slices.Contains(in.LogStreamNames, name) || !strings.HasPrefix(name, in.LogStreamNamePrefix) {
				continue
			}
			for _, e := range evs {
				if (in.StartTime == nil || e.Timestamp >= *in.StartTime) && (in.EndTime == nil || e.Timestamp <= *in.EndTime) {
					events = append(events, e)
				}
			}
		}
		slices.SortStableFunc(events, func(a, b LogEvent) int {
			if a.Timestamp != b.Timestamp {
				return int(a.Timestamp - b.Timestamp)
			}
			return strings.Compare(a.EventID, b.EventID)
		})
		pageSize := 50
		pg, next, err := page(events, in.NextToken, in.Limit, pageSize)
		if err != nil {
			return nil, err
		}
		return map[string]any{"events": nonNil(pg), "nextToken": nilIfEmpty(next), "searchedLogStreams": []any{}}, nil
	case "PutRetentionPolicy":
		var in struct {
			LogGroupName    string `json:"logGroupName"`
			RetentionInDays int    `json:"retentionInDays"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		g := l.groups[in.LogGroupName]
		if g == nil {
			return nil, errorf(400, "ResourceNotFoundException", "The specified log group does not exist.")
		}
		g.retention = in.RetentionInDays
		return nil, nil
	case "DeleteLogGroup":
		var in struct {
			LogGroupName string `json:"logGroupName"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		if _, ok := l.groups[in.LogGroupName]; !ok {
			return nil, errorf(400, "ResourceNotFoundException", "The specified log group does not exist.")
		}
		delete(l.groups, in.LogGroupName)
		return nil, nil
	}
	return nil, errorf(400, "UnknownOperationException", "the emulator does not implement logs.%s", op)
}
