package aws

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/alphaswarm/controller/sdk"
)

// Logs reads a service's lines from the deployment's log group, where
// the awslogs driver writes each task to <service>/app/<task id>: every
// line is tagged with its task. History comes from FilterLogEvents; follow
// polls it again with backoff, from the last line's time, until ctx ends.
func (b *Backend) Logs(ctx context.Context, req *sdk.LogsRequest, send sdk.LogSender) error {
	st, err := decodeState(req.State)
	if err != nil {
		return err
	}
	n := b.namer(req.Deployment)
	names, err := b.services(ctx, n, st, req.Service)
	if err != nil {
		return err
	}
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(n.logGroup())}
	if !req.Since.IsZero() {
		in.StartTime = aws.Int64(req.Since.UnixMilli())
	}
	seen := map[string]bool{}
	read := func(ctx context.Context) ([]sdk.LogLine, error) {
		var perReplica [][]sdk.LogLine
		for _, svc := range names {
			q := *in
			prefix := clean(svc) + "/" + container + "/"
			if req.Replica != "" {
				q.LogStreamNames = []string{prefix + req.Replica}
			} else {
				q.LogStreamNamePrefix = aws.String(prefix)
			}
			byReplica := map[string][]sdk.LogLine{}
			var order []string
			p := cloudwatchlogs.NewFilterLogEventsPaginator(b.clients.logs, &q)
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if errorCode(err) == "ResourceNotFoundException" {
					return nil, nil // no log group: nothing logged yet, or destroyed
				}
				if err != nil {
					return nil, b.awsError("read logs of "+svc, err)
				}
				for _, e := range page.Events {
					id := aws.ToString(e.EventId)
					if seen[id] {
						continue
					}
					seen[id] = true
					replica := strings.TrimPrefix(aws.ToString(e.LogStreamName), prefix)
					if _, ok := byReplica[replica]; !ok {
						order = append(order, replica)
					}
					byReplica[replica] = append(byReplica[replica], sdk.LogLine{
						Time: msTime(aws.ToInt64(e.Timestamp)), Service: svc, Replica: replica, Stream: sdk.Stdout,
						Message: strings.TrimRight(aws.ToString(e.Message), "\n"),
					})
				}
			}
			for _, r := range order {
				perReplica = append(perReplica, byReplica[r])
			}
		}
		return sdk.MergeLogHistory(perReplica, 0, req.Since), nil
	}
	history, err := read(ctx)
	if err != nil {
		return err
	}
	// Tail per replica.
	if req.Tail > 0 {
		byReplica := map[string][]sdk.LogLine{}
		var keys []string
		for _, l := range history {
			k := l.Service + "/" + l.Replica
			if _, ok := byReplica[k]; !ok {
				keys = append(keys, k)
			}
			byReplica[k] = append(byReplica[k], l)
		}
		var per [][]sdk.LogLine
		for _, k := range keys {
			per = append(per, byReplica[k])
		}
		history = sdk.MergeLogHistory(per, req.Tail, req.Since)
	}
	if err := sdk.SendLogs(send, history); err != nil {
		return err
	}
	if !req.Follow {
		return nil
	}
	if len(history) > 0 {
		in.StartTime = aws.Int64(history[len(history)-1].Time.UnixMilli())
	}
	err = sdk.Poll(ctx, logPoll, func(ctx context.Context) (bool, error) {
		lines, err := read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil
			}
			return false, err
		}
		if len(lines) > 0 {
			in.StartTime = aws.Int64(lines[len(lines)-1].Time.UnixMilli())
		}
		return false, sdk.SendLogs(send, lines)
	})
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
