package awsemu

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// cloudWatchService is the rpcv2Cbor service name in CloudWatch's paths:
// POST /service/GraniteServiceVersion20100801/operation/<Op>.
const cloudWatchService = "GraniteServiceVersion20100801"

// serveCBOR answers a CloudWatch call in the Smithy RPC v2 CBOR protocol
// that current CloudWatch clients speak: a CBOR body, Smithy-Protocol:
// rpc-v2-cbor, and errors as a CBOR map with __type and message (and,
// CloudWatch being query-compatible, X-Amzn-Query-Error).
func (s *Server) serveCBOR(w http.ResponseWriter, r *http.Request, body []byte) {
	op := strings.TrimPrefix(r.URL.Path, "/service/"+cloudWatchService+"/operation/")
	fail := func(e *apiError) {
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		fault := "Sender"
		if e.status >= 500 {
			fault = "Receiver"
		}
		w.Header().Set("X-Amzn-Query-Error", e.code+";"+fault)
		w.WriteHeader(e.status)
		w.Write(cbor.Encode(cbor.Map{"__type": cbor.String("com.amazonaws.cloudwatch#" + e.code), "message": cbor.String(e.msg)})) //nolint:errcheck
	}
	if r.Method != http.MethodPost || r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || r.Header.Get("Content-Type") != "application/cbor" {
		fail(errorf(400, "InvalidRequest", "want a POST of application/cbor with Smithy-Protocol: rpc-v2-cbor"))
		return
	}
	if aerr := s.checkSignature(r, body, "monitoring"); aerr != nil {
		fail(aerr)
		return
	}
	if aerr := s.fire("monitoring."+op, r.Context()); aerr != nil {
		fail(aerr)
		return
	}
	var out cbor.Value
	var aerr *apiError
	switch op {
	case "GetMetricData":
		out, aerr = s.getMetricData(body)
	default:
		aerr = errorf(400, "UnknownOperationException", "the emulator does not implement monitoring.%s", op)
	}
	if aerr != nil {
		fail(aerr)
		return
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Write(cbor.Encode(out)) //nolint:errcheck
}

// getMetricData answers ECS Container Insights' task metrics
// (ECS/ContainerInsights CpuUtilized in CPU units and MemoryUtilized in MiB,
// by ClusterName, ServiceName and TaskId): one datapoint per query, at the
// current period, for a running task of a cluster with enhanced Container
// Insights; values are derived from the task's size.
func (s *Server) getMetricData(body []byte) (cbor.Value, *apiError) {
	v, err := cbor.Decode(body)
	if err != nil {
		return nil, errorf(400, "SerializationException", "decode CBOR: %v", err)
	}
	in, _ := v.(cbor.Map)
	queries, _ := in["MetricDataQueries"].(cbor.List)
	if len(queries) == 0 || len(queries) > 500 {
		return nil, errorf(400, "InvalidParameterValue", "MetricDataQueries must have 1 to 500 members")
	}
	start, err1 := cbor.AsTime(in["StartTime"])
	end, err2 := cbor.AsTime(in["EndTime"])
	if err1 != nil || err2 != nil || !start.Before(end) {
		return nil, errorf(400, "InvalidParameterValue", "StartTime and EndTime must be timestamps, StartTime first")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.ecs.tick(now)
	results := cbor.List{}
	for _, qv := range queries {
		q, _ := qv.(cbor.Map)
		id, _ := q["Id"].(cbor.String)
		stat, _ := q["MetricStat"].(cbor.Map)
		metric, _ := stat["Metric"].(cbor.Map)
		ns, _ := metric["Namespace"].(cbor.String)
		name, _ := metric["MetricName"].(cbor.String)
		period, _ := cbor.AsInt64(stat["Period"])
		if id == "" || period <= 0 || period%60 != 0 {
			return nil, errorf(400, "InvalidParameterValue", "each query needs an Id and a Period, a multiple of 60")
		}
		dims := map[string]string{}
		list, _ := metric["Dimensions"].(cbor.List)
		for _, dv := range list {
			d, _ := dv.(cbor.Map)
			k, _ := d["Name"].(cbor.String)
			val, _ := d["Value"].(cbor.String)
			dims[string(k)] = string(val)
		}
		res := cbor.Map{"Id": id, "Label": name, "StatusCode": cbor.String("Complete"), "Timestamps": cbor.List{}, "Values": cbor.List{}}
		if value, ok := s.taskMetric(string(ns), string(name), dims); ok {
			at := now.Truncate(time.Duration(period) * time.Second)
			if !at.Before(start) && !at.After(end) {
				res["Timestamps"] = cbor.List{&cbor.Tag{ID: 1, Value: cbor.Float64(float64(at.Unix()))}}
				res["Values"] = cbor.List{cbor.Float64(value)}
			}
		}
		results = append(results, res)
	}
	return cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}, nil
}

// taskMetric is the emulated value of a Container Insights task metric.
func (s *Server) taskMetric(namespace, name string, dims map[string]string) (float64, bool) {
	if namespace != "ECS/ContainerInsights" || s.ecs.insights[dims["ClusterName"]] != "enhanced" {
		return 0, false
	}
	for _, t := range s.ecs.tasks {
		if !strings.HasSuffix(t.TaskArn, "/"+dims["TaskId"]) || t.Group != "service:"+dims["ServiceName"] || t.LastStatus != "RUNNING" {
			continue
		}
		h := fnv.New32a()
		h.Write([]byte(t.TaskArn))
		share := 0.05 + float64(h.Sum32()%20)/100 // 5% to 24% of the task's size
		var cpu, mem float64
		fmt.Sscan(t.Cpu, &cpu)    //nolint:errcheck
		fmt.Sscan(t.Memory, &mem) //nolint:errcheck
		switch name {
		case "CpuUtilized":
			return cpu * share, true
		case "MemoryUtilized":
			return mem * (share + 0.2), true
		}
	}
	return 0, false
}
