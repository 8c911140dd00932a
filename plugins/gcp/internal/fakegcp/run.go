package fakegcp

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/genproto/googleapis/rpc/code"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// service is one Cloud Run service and what is under way on it.
type service struct {
	svc *runpb.Service
	// until is when the change under way ends (a revision ready or
	// failed, a deletion done); zero when nothing is under way.
	until    time.Time
	deleting bool
	op       string // the operation of the change under way
	revSeq   int
	iam      iamPolicy
}

// operation is one long-running operation of Run.
type operation struct {
	name     string
	service  string
	polls    int
	finished bool
	result   *runpb.Service
	err      *rpcstatus.Status
	// fail is the error the operation ends with when its change is due
	// (FailOperations).
	fail *rpcstatus.Status
}

var (
	serviceID = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$`)
	labelKey  = regexp.MustCompile(`^[a-z][-_a-z0-9]{0,62}$`)
	labelVal  = regexp.MustCompile(`^[-_a-z0-9]{0,63}$`)
	cpuValues = []string{"1", "2", "4", "6", "8"}
	memory    = regexp.MustCompile(`^[1-9][0-9]*Mi$`)
)

// Services returns a copy of every service, keyed by full name, as the
// API would show it now.
func (s *Server) Services() map[string]*runpb.Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	out := map[string]*runpb.Service{}
	for name, sv := range s.services {
		out[name] = s.view(sv)
	}
	return out
}

// advance ends the changes whose time has come.
func (s *Server) advance() {
	now := time.Now()
	for name, sv := range s.services {
		if sv.until.IsZero() || now.Before(sv.until) {
			continue
		}
		sv.until = time.Time{}
		op := s.operations[sv.op]
		if op != nil && op.fail != nil {
			s.failOperation(sv, op)
			continue
		}
		if sv.deleting {
			delete(s.services, name)
			if op != nil {
				op.finished, op.result = true, proto.Clone(sv.svc).(*runpb.Service)
			}
			continue
		}
		x := sv.svc
		x.Reconciling = false
		x.ObservedGeneration = x.Generation
		image := x.GetTemplate().GetContainers()[0].GetImage()
		if msg, missing := s.missing[image]; missing {
			msg = fmt.Sprintf("Revision '%s' is not ready and cannot serve traffic. %s", x.LatestCreatedRevision, msg)
			x.TerminalCondition = condition("Ready", runpb.Condition_CONDITION_FAILED, msg)
			x.Conditions = []*runpb.Condition{x.TerminalCondition, condition("ConfigurationsReady", runpb.Condition_CONDITION_FAILED, msg)}
			if op != nil {
				op.finished, op.err = true, &rpcstatus.Status{Code: int32(code.Code_FAILED_PRECONDITION), Message: msg}
			}
			continue
		}
		x.LatestReadyRevision = x.LatestCreatedRevision
		x.TerminalCondition = condition("Ready", runpb.Condition_CONDITION_SUCCEEDED, "")
		x.Conditions = []*runpb.Condition{x.TerminalCondition,
			condition("ConfigurationsReady", runpb.Condition_CONDITION_SUCCEEDED, ""), condition("RoutesReady", runpb.Condition_CONDITION_SUCCEEDED, "")}
		x.TrafficStatuses = []*runpb.TrafficTargetStatus{{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, Percent: 100}}
		s.logStarted(x)
		if op != nil {
			op.finished, op.result = true, proto.Clone(x).(*runpb.Service)
		}
	}
}

// failOperation ends op, and the change under way on sv, with the error
// FailOperations set.
func (s *Server) failOperation(sv *service, op *operation) {
	op.finished, op.err = true, op.fail
	x := sv.svc
	x.Reconciling = false
	if sv.deleting {
		sv.deleting, x.DeleteTime = false, nil
		return
	}
	x.ObservedGeneration = x.Generation
	x.TerminalCondition = condition("Ready", runpb.Condition_CONDITION_FAILED, op.fail.Message)
	x.Conditions = []*runpb.Condition{x.TerminalCondition}
}

func condition(typ string, state runpb.Condition_State, msg string) *runpb.Condition {
	return &runpb.Condition{Type: typ, State: state, Message: msg, LastTransitionTime: timestamppb.Now(),
		Severity: runpb.Condition_ERROR}
}

// view is a copy of a service as Get answers.
func (s *Server) view(sv *service) *runpb.Service {
	return proto.Clone(sv.svc).(*runpb.Service)
}

// newOperation starts an operation on a service.
func (s *Server) newOperation(sv *service) *longrunningpb.Operation {
	s.seq++
	parent := sv.svc.Name[:strings.Index(sv.svc.Name, "/services/")]
	op := &operation{name: fmt.Sprintf("%s/operations/op-%d", parent, s.seq), service: sv.svc.Name}
	if prev := s.operations[sv.op]; prev != nil && !prev.finished {
		// A change replaces the one under way, which ends with it.
		prev.finished, prev.result = true, proto.Clone(sv.svc).(*runpb.Service)
	}
	if len(s.failedOps) > 0 {
		op.fail, s.failedOps = s.failedOps[0], s.failedOps[1:]
	}
	s.operations[op.name] = op
	sv.op = op.name
	sv.until = time.Now().Add(s.delay)
	return s.operationProto(op, sv.svc)
}

func (s *Server) operationProto(op *operation, current *runpb.Service) *longrunningpb.Operation {
	out := &longrunningpb.Operation{Name: op.name}
	if current != nil {
		out.Metadata, _ = anypb.New(current)
	}
	if op.finished && op.polls >= 2 {
		out.Done = true
		switch {
		case op.err != nil:
			out.Result = &longrunningpb.Operation_Error{Error: op.err}
		default:
			resp, _ := anypb.New(op.result)
			out.Result = &longrunningpb.Operation_Response{Response: resp}
		}
	}
	return out
}

// newRevision starts a new revision of sv's template.
func (s *Server) newRevision(sv *service) {
	sv.revSeq++
	s.seq++
	id := sv.svc.Name[strings.LastIndex(sv.svc.Name, "/")+1:]
	sv.svc.LatestCreatedRevision = fmt.Sprintf("%s-%05d-%03x", id, sv.revSeq, s.seq%4096)
}

// checkService refuses what Cloud Run refuses in a service's spec.
func (s *Server) checkService(x *runpb.Service) error {
	for k, v := range x.Labels {
		if !labelKey.MatchString(k) || !labelVal.MatchString(v) {
			return status.Errorf(codes.InvalidArgument, "label %q=%q: keys and values must be lower-case letters, digits, '-' and '_', at most 63", k, v)
		}
	}
	t := x.GetTemplate()
	if len(t.GetContainers()) != 1 {
		return status.Errorf(codes.InvalidArgument, "template.containers: want exactly one container, got %d", len(t.GetContainers()))
	}
	c := t.Containers[0]
	if c.Image == "" {
		return status.Error(codes.InvalidArgument, "template.containers[0].image: required")
	}
	if len(c.Ports) > 1 {
		return status.Error(codes.InvalidArgument, "template.containers[0].ports: at most one port")
	}
	if cpu, ok := c.GetResources().GetLimits()["cpu"]; ok && !slices.Contains(cpuValues, cpu) {
		return status.Errorf(codes.InvalidArgument, "template.containers[0].resources.limits.cpu: %q is not a valid CPU value", cpu)
	}
	if mem, ok := c.GetResources().GetLimits()["memory"]; ok && !memory.MatchString(mem) {
		return status.Errorf(codes.InvalidArgument, "template.containers[0].resources.limits.memory: %q is not a valid memory value", mem)
	}
	seen := map[string]bool{}
	for _, e := range c.Env {
		if seen[e.Name] {
			return status.Errorf(codes.InvalidArgument, "template.containers[0].env: %q is set twice", e.Name)
		}
		seen[e.Name] = true
		if ref := e.GetValueSource().GetSecretKeyRef(); ref != nil {
			if err := s.checkSecretRef(ref.Secret, ref.Version); err != nil {
				return err
			}
		}
	}
	if sc := x.GetScaling(); sc != nil && sc.ScalingMode == runpb.ServiceScaling_MANUAL && sc.GetManualInstanceCount() < 0 {
		return status.Error(codes.InvalidArgument, "scaling.manual_instance_count: must not be negative")
	}
	return nil
}

// checkSecretRef refuses a reference to a secret version that does not
// exist, as a revision that cannot read its secret fails.
func (s *Server) checkSecretRef(name, version string) error {
	sec := s.secrets[name]
	if sec == nil {
		return status.Errorf(codes.FailedPrecondition, "secret %s not found", name)
	}
	n, err := strconv.Atoi(version)
	if err != nil || n < 1 || n > len(sec.versions) {
		return status.Errorf(codes.FailedPrecondition, "secret %s has no version %q", name, version)
	}
	if st := sec.versions[n-1].state; st != secretmanagerpb.SecretVersion_ENABLED {
		return status.Errorf(codes.FailedPrecondition, "secret %s version %s is %s", name, version, st)
	}
	return nil
}

type runServer struct {
	runpb.UnimplementedServicesServer
	s *Server
}

func (r *runServer) CreateService(_ context.Context, req *runpb.CreateServiceRequest) (*longrunningpb.Operation, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if !strings.HasPrefix(req.Parent, "projects/") || !strings.Contains(req.Parent, "/locations/") {
		return nil, status.Errorf(codes.InvalidArgument, "parent %q", req.Parent)
	}
	if !serviceID.MatchString(req.ServiceId) {
		return nil, status.Errorf(codes.InvalidArgument, "service_id %q: lower-case letters, digits and '-', starting with a letter, at most 49", req.ServiceId)
	}
	name := req.Parent + "/services/" + req.ServiceId
	if _, ok := s.services[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "service %s already exists", name)
	}
	x := proto.Clone(req.Service).(*runpb.Service)
	if err := s.checkService(x); err != nil {
		return nil, err
	}
	s.seq++
	x.Name, x.Uid, x.Generation, x.Reconciling = name, fmt.Sprintf("uid-%d", s.seq), 1, true
	x.CreateTime, x.UpdateTime = timestamppb.Now(), timestamppb.Now()
	region := strings.Split(req.Parent, "/")[3]
	x.Uri = fmt.Sprintf("https://%s-fake.%s.run.app", req.ServiceId, region)
	x.Urls = []string{x.Uri}
	x.TerminalCondition = condition("Ready", runpb.Condition_CONDITION_RECONCILING, "Deploying revision.")
	sv := &service{svc: x}
	s.newRevision(sv)
	s.services[name] = sv
	return s.newOperation(sv), nil
}

func (r *runServer) GetService(_ context.Context, req *runpb.GetServiceRequest) (*runpb.Service, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	sv := s.services[req.Name]
	if sv == nil {
		return nil, status.Errorf(codes.NotFound, "service %s not found", req.Name)
	}
	return s.view(sv), nil
}

func (r *runServer) ListServices(_ context.Context, req *runpb.ListServicesRequest) (*runpb.ListServicesResponse, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	var all []*runpb.Service
	for name, sv := range s.services {
		if strings.HasPrefix(name, req.Parent+"/services/") {
			all = append(all, s.view(sv))
		}
	}
	// Newest first, as the API sorts them; by name among equals.
	key := func(x *runpb.Service) string {
		return fmt.Sprintf("%020d/%s", math.MaxInt64-x.CreateTime.AsTime().UnixNano(), x.Name)
	}
	slices.SortFunc(all, func(a, b *runpb.Service) int { return strings.Compare(key(a), key(b)) })
	items, next, err := page(all, key, req.PageToken, req.PageSize, s.pageSize)
	if err != nil {
		return nil, err
	}
	return &runpb.ListServicesResponse{Services: items, NextPageToken: next}, nil
}

func (r *runServer) UpdateService(_ context.Context, req *runpb.UpdateServiceRequest) (*longrunningpb.Operation, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	name := req.GetService().GetName()
	sv := s.services[name]
	if sv == nil || sv.deleting {
		return nil, status.Errorf(codes.NotFound, "service %s not found", name)
	}
	next := proto.Clone(sv.svc).(*runpb.Service)
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		paths = []string{"labels", "annotations", "template", "scaling", "ingress"}
	}
	for _, p := range paths {
		switch p {
		case "labels":
			next.Labels = req.Service.Labels
		case "annotations":
			next.Annotations = req.Service.Annotations
		case "template":
			next.Template = req.Service.Template
		case "scaling":
			next.Scaling = req.Service.Scaling
		case "ingress":
			next.Ingress = req.Service.Ingress
		default:
			return nil, status.Errorf(codes.InvalidArgument, "update_mask: fakegcp does not update %q", p)
		}
	}
	if err := s.checkService(next); err != nil {
		return nil, err
	}
	newRevision := req.ForceNewRevision || !proto.Equal(next.Template, sv.svc.Template)
	next.Generation++
	next.Reconciling = true
	next.UpdateTime = timestamppb.Now()
	next.TerminalCondition = condition("Ready", runpb.Condition_CONDITION_RECONCILING, "Deploying revision.")
	sv.svc = next
	if newRevision {
		s.newRevision(sv)
	}
	return s.newOperation(sv), nil
}

func (r *runServer) DeleteService(_ context.Context, req *runpb.DeleteServiceRequest) (*longrunningpb.Operation, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	sv := s.services[req.Name]
	if sv == nil {
		return nil, status.Errorf(codes.NotFound, "service %s not found", req.Name)
	}
	if sv.deleting {
		return s.operationProto(s.operations[sv.op], sv.svc), nil
	}
	sv.deleting = true
	sv.svc.DeleteTime = timestamppb.Now()
	sv.svc.Reconciling = true
	return s.newOperation(sv), nil
}

type operationsServer struct {
	longrunningpb.UnimplementedOperationsServer
	s *Server
}

func (o *operationsServer) GetOperation(_ context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	s := o.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	op := s.operations[req.Name]
	if op == nil {
		return nil, status.Errorf(codes.NotFound, "operation %s not found", req.Name)
	}
	op.polls++
	var current *runpb.Service
	if sv := s.services[op.service]; sv != nil {
		current = s.view(sv)
	} else {
		current = op.result
	}
	return s.operationProto(op, current), nil
}

func (o *operationsServer) DeleteOperation(_ context.Context, req *longrunningpb.DeleteOperationRequest) (*emptypb.Empty, error) {
	s := o.s
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.operations, req.Name)
	return &emptypb.Empty{}, nil
}
