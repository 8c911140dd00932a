package awsemu

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Tag is an ECS tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// KeyValue is an environment variable of a container definition.
type KeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SecretRef is a container definition's secret: Name from ValueFrom.
type SecretRef struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// ContainerDefinition is the part of ECS's container definition the
// emulator keeps.
type ContainerDefinition struct {
	Name             string            `json:"name"`
	Image            string            `json:"image"`
	Command          []string          `json:"command,omitempty"`
	EntryPoint       []string          `json:"entryPoint,omitempty"`
	Environment      []KeyValue        `json:"environment,omitempty"`
	Secrets          []SecretRef       `json:"secrets,omitempty"`
	Essential        *bool             `json:"essential,omitempty"`
	PortMappings     []map[string]any  `json:"portMappings,omitempty"`
	HealthCheck      map[string]any    `json:"healthCheck,omitempty"`
	LogConfiguration *LogConfiguration `json:"logConfiguration,omitempty"`
}

// LogConfiguration is a container's log driver.
type LogConfiguration struct {
	LogDriver string            `json:"logDriver"`
	Options   map[string]string `json:"options,omitempty"`
}

// TaskDefinition is a registered task definition revision.
type TaskDefinition struct {
	TaskDefinitionArn       string                `json:"taskDefinitionArn"`
	Family                  string                `json:"family"`
	Revision                int                   `json:"revision"`
	Status                  string                `json:"status"`
	ContainerDefinitions    []ContainerDefinition `json:"containerDefinitions"`
	Cpu                     string                `json:"cpu,omitempty"`
	Memory                  string                `json:"memory,omitempty"`
	NetworkMode             string                `json:"networkMode,omitempty"`
	RequiresCompatibilities []string              `json:"requiresCompatibilities,omitempty"`
	ExecutionRoleArn        string                `json:"executionRoleArn,omitempty"`
	TaskRoleArn             string                `json:"taskRoleArn,omitempty"`
	RegisteredAt            float64               `json:"registeredAt"`

	tags []Tag
}

// Deployment is one of a service's deployments.
type Deployment struct {
	ID                 string  `json:"id"`
	Status             string  `json:"status"` // PRIMARY, ACTIVE, INACTIVE
	TaskDefinition     string  `json:"taskDefinition"`
	DesiredCount       int     `json:"desiredCount"`
	PendingCount       int     `json:"pendingCount"`
	RunningCount       int     `json:"runningCount"`
	FailedTasks        int     `json:"failedTasks"`
	RolloutState       string  `json:"rolloutState"`
	RolloutStateReason string  `json:"rolloutStateReason,omitempty"`
	LaunchType         string  `json:"launchType,omitempty"`
	CreatedAt          float64 `json:"createdAt"`
	UpdatedAt          float64 `json:"updatedAt"`

	ServiceConnectConfiguration *ServiceConnect `json:"serviceConnectConfiguration,omitempty"`

	placeAt time.Time // no placement is tried before, after one failed
}

// ServiceEvent is one line of a service's event log.
type ServiceEvent struct {
	ID        string  `json:"id"`
	CreatedAt float64 `json:"createdAt"`
	Message   string  `json:"message"`
}

// Service is an ECS service as DescribeServices answers it.
type Service struct {
	ServiceArn              string         `json:"serviceArn"`
	ServiceName             string         `json:"serviceName"`
	ClusterArn              string         `json:"clusterArn"`
	Status                  string         `json:"status"`
	DesiredCount            int            `json:"desiredCount"`
	RunningCount            int            `json:"runningCount"`
	PendingCount            int            `json:"pendingCount"`
	LaunchType              string         `json:"launchType,omitempty"`
	TaskDefinition          string         `json:"taskDefinition"`
	DeploymentConfiguration map[string]any `json:"deploymentConfiguration,omitempty"`
	NetworkConfiguration    map[string]any `json:"networkConfiguration,omitempty"`
	Deployments             []*Deployment  `json:"deployments"`
	Events                  []ServiceEvent `json:"events"`
	CreatedAt               float64        `json:"createdAt"`
	PropagateTags           string         `json:"propagateTags,omitempty"`
	Tags                    []Tag          `json:"tags,omitempty"`
	// ServiceConnectConfiguration is the configuration of the service's
	// primary deployment (ECS answers it per deployment; here on both).
	ServiceConnectConfiguration *ServiceConnect `json:"-"`
	LoadBalancers               []LoadBalancer  `json:"loadBalancers,omitempty"`

	cluster   string
	visibleAt time.Time
}

// Container is a task's container.
type Container struct {
	Name         string `json:"name"`
	LastStatus   string `json:"lastStatus"`
	ExitCode     *int   `json:"exitCode,omitempty"`
	HealthStatus string `json:"healthStatus,omitempty"`
}

// Task is a running (or stopped) task.
type Task struct {
	TaskArn           string      `json:"taskArn"`
	ClusterArn        string      `json:"clusterArn"`
	TaskDefinitionArn string      `json:"taskDefinitionArn"`
	Group             string      `json:"group"`
	LastStatus        string      `json:"lastStatus"`
	DesiredStatus     string      `json:"desiredStatus"`
	HealthStatus      string      `json:"healthStatus"`
	LaunchType        string      `json:"launchType"`
	Cpu               string      `json:"cpu,omitempty"`
	Memory            string      `json:"memory,omitempty"`
	StartedAt         *float64    `json:"startedAt,omitempty"`
	StoppedAt         *float64    `json:"stoppedAt,omitempty"`
	StoppedReason     string      `json:"stoppedReason,omitempty"`
	StopCode          string      `json:"stopCode,omitempty"`
	Containers        []Container `json:"containers"`
	CreatedAt         float64     `json:"createdAt"`
	Tags              []Tag       `json:"tags,omitempty"`

	deployment string
	failed     bool // failed to start, not counted yet
	logged     time.Time
	born       time.Time
	stopAt     time.Time
}

type ecsState struct {
	s        *Server
	clusters map[string]bool
	insights map[string]string // cluster -> containerInsights setting
	families map[string][]*TaskDefinition
	services map[string]*Service // by cluster/name, ACTIVE or DRAINING
	gone     map[string]*Service // INACTIVE, by cluster/name
	tasks    []*Task
	seq      int
	// vcpuQuota is the account's Fargate On-Demand vCPU quota in the
	// region; 0 is none.
	vcpuQuota float64
}

func newECS(s *Server) *ecsState {
	return &ecsState{s: s, clusters: map[string]bool{}, insights: map[string]string{}, families: map[string][]*TaskDefinition{},
		services: map[string]*Service{}, gone: map[string]*Service{}}
}

// CreateCluster makes a cluster exist, as an operator would beforehand,
// with Container Insights set to insights ("enhanced", "enabled" or
// "disabled").
func (s *Server) CreateCluster(name, insights string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ecs.clusters[name] = true
	s.ecs.insights[name] = insights
}

// DeleteCluster makes a cluster disappear, as an operator deleting it
// behind the backend's back would: calls naming it answer
// ClusterNotFoundException. Use it on a cluster without services.
func (s *Server) DeleteCluster(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ecs.clusters, name)
	delete(s.ecs.insights, name)
}

// FargateVCPUQuota sets the account's "Fargate On-Demand vCPU resource
// count" quota in the region (0: none). A task whose vCPUs would take the
// tasks not yet stopped past it is not placed: as ECS does, the service
// gets the event "was unable to place a task. Reason: You've reached the
// limit on the number of vCPUs you can run concurrently", the failure
// counts towards the deployment circuit breaker, and no task exists to
// carry a stopped reason. (The quota and its vCPU accounting: ECS
// Developer Guide, "Amazon ECS service quotas", Fargate; the event text as
// ECS writes it: AWS re:Post, "service was unable to place a task. Reason:
// You've reached the limit on the number of vCPUs you can run
// concurrently".)
func (s *Server) FargateVCPUQuota(vcpus float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ecs.vcpuQuota = vcpus
}

// vcpuLimitReason is ECS's reason for a task the vCPU quota keeps out.
const vcpuLimitReason = "You've reached the limit on the number of vCPUs you can run concurrently. " +
	"For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."

// place starts a task of deployment d of svc, unless the vCPU quota keeps
// it out; it reports whether it started one.
func (e *ecsState) place(svc *Service, d *Deployment, now time.Time) bool {
	if e.vcpuQuota > 0 {
		if now.Before(d.placeAt) {
			return false
		}
		var inUse, units int
		for _, t := range e.tasks {
			if t.LastStatus != "STOPPED" {
				inUse += atoi(t.Cpu)
			}
		}
		if td := e.taskDefinition(d.TaskDefinition); td != nil {
			units = atoi(td.Cpu)
		}
		if float64(inUse+units) > e.vcpuQuota*1024 {
			d.placeAt = now.Add(e.s.opts.Step)
			d.FailedTasks++
			e.event(svc, now, "was unable to place a task. Reason: %s", vcpuLimitReason)
			return false
		}
	}
	e.startTask(svc, d, now)
	return true
}

// atoi reads CPU units, 0 when absent.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func (e *ecsState) arn(kind, name string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s/%s", e.s.opts.Region, AccountID, kind, name)
}

// clusterName accepts a cluster's name or ARN.
func (e *ecsState) cluster(ref string) (string, *apiError) {
	if ref == "" {
		ref = "default"
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	if !e.clusters[name] {
		return "", errorf(400, "ClusterNotFoundException", "Cluster not found.")
	}
	return name, nil
}

func (e *ecsState) handle(op string, body []byte) (any, *apiError) {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	e.tick(time.Now())
	switch op {
	case "DescribeClusters":
		return e.describeClusters(body)
	case "CreateCluster":
		var in struct {
			ClusterName string              `json:"clusterName"`
			Settings    []map[string]string `json:"settings"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		if in.ClusterName == "" {
			in.ClusterName = "default"
		}
		if !e.clusters[in.ClusterName] {
			e.clusters[in.ClusterName] = true
			e.insights[in.ClusterName] = "disabled"
			for _, st := range in.Settings {
				if st["name"] == "containerInsights" {
					e.insights[in.ClusterName] = st["value"]
				}
			}
		}
		return map[string]any{"cluster": map[string]any{"clusterArn": e.arn("cluster", in.ClusterName), "clusterName": in.ClusterName, "status": "ACTIVE"}}, nil
	case "RegisterTaskDefinition":
		return e.registerTaskDefinition(body)
	case "DescribeTaskDefinition":
		return e.describeTaskDefinition(body)
	case "DeregisterTaskDefinition":
		return e.deregisterTaskDefinition(body)
	case "ListTaskDefinitions":
		return e.listTaskDefinitions(body)
	case "CreateService":
		return e.createService(body)
	case "UpdateService":
		return e.updateService(body)
	case "DeleteService":
		return e.deleteService(body)
	case "DescribeServices":
		return e.describeServices(body)
	case "ListServices":
		return e.listServices(body)
	case "ListTasks":
		return e.listTasks(body)
	case "TagResource", "UntagResource":
		return e.tagResource(op, body)
	case "DescribeTasks":
		return e.describeTasks(body)
	}
	return nil, errorf(400, "UnknownOperationException", "the emulator does not implement ecs.%s", op)
}

func (e *ecsState) describeClusters(body []byte) (any, *apiError) {
	var in struct {
		Clusters []string `json:"clusters"`
		Include  []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	type cluster struct {
		ClusterArn  string              `json:"clusterArn"`
		ClusterName string              `json:"clusterName"`
		Status      string              `json:"status"`
		Running     int                 `json:"runningTasksCount"`
		Pending     int                 `json:"pendingTasksCount"`
		Services    int                 `json:"activeServicesCount"`
		Providers   []string            `json:"capacityProviders"`
		Settings    []map[string]string `json:"settings,omitempty"`
	}
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	out := struct {
		Clusters []cluster `json:"clusters"`
		Failures []failure `json:"failures"`
	}{Clusters: []cluster{}, Failures: []failure{}}
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	for _, ref := range in.Clusters {
		name, err := e.cluster(ref)
		if err != nil {
			out.Failures = append(out.Failures, failure{Arn: e.arn("cluster", ref), Reason: "MISSING"})
			continue
		}
		c := cluster{ClusterArn: e.arn("cluster", name), ClusterName: name, Status: "ACTIVE", Providers: []string{"FARGATE", "FARGATE_SPOT"}}
		if slices.Contains(in.Include, "SETTINGS") {
			c.Settings = []map[string]string{{"name": "containerInsights", "value": e.insights[name]}}
		}
		for _, t := range e.tasks {
			if t.ClusterArn == c.ClusterArn {
				switch t.LastStatus {
				case "RUNNING":
					c.Running++
				case "PROVISIONING", "PENDING":
					c.Pending++
				}
			}
		}
		for _, s := range e.services {
			if s.cluster == name {
				c.Services++
			}
		}
		out.Clusters = append(out.Clusters, c)
	}
	return out, nil
}

func (e *ecsState) registerTaskDefinition(body []byte) (any, *apiError) {
	var in struct {
		TaskDefinition
		Tags []Tag `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	td := in.TaskDefinition
	if td.Family == "" || len(td.Family) > 255 || strings.Trim(td.Family, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return nil, errorf(400, "ClientException", "Family contains invalid characters or is too long.")
	}
	if len(td.ContainerDefinitions) == 0 {
		return nil, errorf(400, "ClientException", "Container list cannot be empty.")
	}
	if slices.Contains(td.RequiresCompatibilities, "FARGATE") {
		if td.NetworkMode != "awsvpc" {
			return nil, errorf(400, "ClientException", "Fargate only supports network mode ‘awsvpc’.")
		}
		if !validFargate(td.Cpu, td.Memory) {
			return nil, errorf(400, "ClientException", "No Fargate configuration exists for given values: %s CPU, %s memory.", td.Cpu, td.Memory)
		}
	}
	for _, c := range td.ContainerDefinitions {
		for _, s := range c.Secrets {
			if !strings.HasPrefix(s.ValueFrom, "arn:aws:secretsmanager:") && !strings.HasPrefix(s.ValueFrom, "arn:aws:ssm:") {
				return nil, errorf(400, "ClientException", "secret %s: valueFrom must be an ARN", s.Name)
			}
		}
	}
	revs := e.families[td.Family]
	td.Revision = len(revs) + 1
	td.TaskDefinitionArn = e.arn("task-definition", fmt.Sprintf("%s:%d", td.Family, td.Revision))
	td.Status = "ACTIVE"
	td.RegisteredAt = epoch(time.Now())
	td.tags = in.Tags
	e.families[td.Family] = append(revs, &td)
	return map[string]any{"taskDefinition": &td, "tags": td.tags}, nil
}

// validFargate reports whether cpu units and memory MiB are a Fargate size.
func validFargate(cpu, memory string) bool {
	var c, m int
	if _, err := fmt.Sscan(cpu, &c); err != nil {
		return false
	}
	if _, err := fmt.Sscan(memory, &m); err != nil {
		return false
	}
	switch c {
	case 256:
		return m == 512 || m == 1024 || m == 2048
	case 512:
		return m >= 1024 && m <= 4096 && m%1024 == 0
	case 1024:
		return m >= 2048 && m <= 8192 && m%1024 == 0
	case 2048:
		return m >= 4096 && m <= 16384 && m%1024 == 0
	case 4096:
		return m >= 8192 && m <= 30720 && m%1024 == 0
	case 8192:
		return m >= 16384 && m <= 61440 && m%4096 == 0
	case 16384:
		return m >= 32768 && m <= 122880 && m%8192 == 0
	}
	return false
}

// taskDefinition finds a revision by ARN or family[:revision].
func (e *ecsState) taskDefinition(ref string) *TaskDefinition {
	ref = ref[strings.LastIndex(ref, "/")+1:]
	family, rev, hasRev := strings.Cut(ref, ":")
	revs := e.families[family]
	if len(revs) == 0 {
		return nil
	}
	if !hasRev {
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].Status == "ACTIVE" {
				return revs[i]
			}
		}
		return nil
	}
	var n int
	if _, err := fmt.Sscan(rev, &n); err != nil || n < 1 || n > len(revs) {
		return nil
	}
	return revs[n-1]
}

func (e *ecsState) describeTaskDefinition(body []byte) (any, *apiError) {
	var in struct {
		TaskDefinition string   `json:"taskDefinition"`
		Include        []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	td := e.taskDefinition(in.TaskDefinition)
	if td == nil {
		return nil, errorf(400, "ClientException", "Unable to describe task definition.")
	}
	out := map[string]any{"taskDefinition": td}
	if slices.Contains(in.Include, "TAGS") {
		out["tags"] = td.tags
	}
	return out, nil
}

func (e *ecsState) deregisterTaskDefinition(body []byte) (any, *apiError) {
	var in struct {
		TaskDefinition string `json:"taskDefinition"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !strings.Contains(in.TaskDefinition[strings.LastIndex(in.TaskDefinition, "/")+1:], ":") {
		return nil, errorf(400, "ClientException", "A revision is required.")
	}
	td := e.taskDefinition(in.TaskDefinition)
	if td == nil {
		return nil, errorf(400, "ClientException", "The specified task definition does not exist.")
	}
	td.Status = "INACTIVE"
	return map[string]any{"taskDefinition": td}, nil
}

func (e *ecsState) listTaskDefinitions(body []byte) (any, *apiError) {
	var in struct {
		FamilyPrefix string `json:"familyPrefix"`
		Status       string `json:"status"`
		NextToken    string `json:"nextToken"`
		MaxResults   int    `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = "ACTIVE"
	}
	var arns []string
	for _, f := range slices.Sorted(maps.Keys(e.families)) {
		if !strings.HasPrefix(f, in.FamilyPrefix) {
			continue
		}
		for _, td := range e.families[f] {
			if in.Status == "ALL" || td.Status == in.Status {
				arns = append(arns, td.TaskDefinitionArn)
			}
		}
	}
	pg, next, err := page(arns, in.NextToken, in.MaxResults, e.s.opts.PageSize)
	if err != nil {
		return nil, err
	}
	return map[string]any{"taskDefinitionArns": nonNil(pg), "nextToken": nilIfEmpty(next)}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type serviceInput struct {
	Cluster                 string         `json:"cluster"`
	ServiceName             string         `json:"serviceName"`
	Service                 string         `json:"service"`
	TaskDefinition          string         `json:"taskDefinition"`
	DesiredCount            *int           `json:"desiredCount"`
	LaunchType              string         `json:"launchType"`
	NetworkConfiguration    map[string]any `json:"networkConfiguration"`
	DeploymentConfiguration map[string]any `json:"deploymentConfiguration"`
	PropagateTags           string         `json:"propagateTags"`
	Tags                    []Tag          `json:"tags"`
	ForceNewDeployment      bool           `json:"forceNewDeployment"`
	Force                   bool           `json:"force"`

	ServiceConnectConfiguration *ServiceConnect `json:"serviceConnectConfiguration"`
	LoadBalancers               *[]LoadBalancer `json:"loadBalancers"`
}

// LoadBalancer is a target group an ECS service registers its tasks in.
type LoadBalancer struct {
	TargetGroupArn string `json:"targetGroupArn"`
	ContainerName  string `json:"containerName"`
	ContainerPort  int    `json:"containerPort"`
}

// checkLoadBalancers refuses target groups that do not exist or are not of
// the ip type awsvpc tasks need, and containers the task definition lacks.
func (e *ecsState) checkLoadBalancers(lbs []LoadBalancer, td *TaskDefinition) *apiError {
	for _, lb := range lbs {
		tg, ok := e.s.elb.targetGroups[lb.TargetGroupArn]
		if !ok {
			return errorf(400, "InvalidParameterException", "The target group %s does not exist.", lb.TargetGroupArn)
		}
		if tg.targetType != "ip" {
			return errorf(400, "InvalidParameterException", "The provided target group %s has target type %s, which is incompatible with the awsvpc network mode.", tg.arn, tg.targetType)
		}
		found := false
		for _, c := range td.ContainerDefinitions {
			for _, pm := range c.PortMappings {
				port, _ := pm["containerPort"].(float64)
				found = found || (c.Name == lb.ContainerName && int(port) == lb.ContainerPort)
			}
		}
		if !found {
			return errorf(400, "InvalidParameterException", "The container %s does not have a container port %d in the task definition.", lb.ContainerName, lb.ContainerPort)
		}
	}
	return nil
}

func (e *ecsState) newDeployment(svc *Service, td string, now time.Time) {
	for _, d := range svc.Deployments {
		d.Status = "ACTIVE"
	}
	e.seq++
	d := &Deployment{ID: fmt.Sprintf("ecs-svc/%019d", e.seq), Status: "PRIMARY", TaskDefinition: td, DesiredCount: svc.DesiredCount,
		RolloutState: "IN_PROGRESS", RolloutStateReason: "ECS deployment ecs-svc in progress.", LaunchType: "FARGATE",
		CreatedAt: epoch(now), UpdatedAt: epoch(now), ServiceConnectConfiguration: svc.ServiceConnectConfiguration}
	svc.Deployments = append([]*Deployment{d}, svc.Deployments...)
}

func (e *ecsState) event(svc *Service, now time.Time, format string, args ...any) {
	e.seq++
	ev := ServiceEvent{ID: fmt.Sprintf("ev-%d", e.seq), CreatedAt: epoch(now), Message: "(service " + svc.ServiceName + ") " + fmt.Sprintf(format, args...)}
	svc.Events = append([]ServiceEvent{ev}, svc.Events...)
	if len(svc.Events) > 100 {
		svc.Events = svc.Events[:100]
	}
}

func (e *ecsState) createService(body []byte) (any, *apiError) {
	var in serviceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	cluster, err := e.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.ServiceName == "" || len(in.ServiceName) > 255 || strings.Trim(in.ServiceName, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return nil, errorf(400, "InvalidParameterException", "Service name is invalid.")
	}
	td := e.taskDefinition(in.TaskDefinition)
	if td == nil || td.Status != "ACTIVE" {
		return nil, errorf(400, "InvalidParameterException", "TaskDefinition not found.")
	}
	if in.LaunchType == "FARGATE" {
		if e.checkSubnets(in.NetworkConfiguration) != nil {
			return nil, e.checkSubnets(in.NetworkConfiguration)
		}
	}
	key := cluster + "/" + in.ServiceName
	if old, ok := e.services[key]; ok {
		if old.TaskDefinition == td.TaskDefinitionArn {
			return map[string]any{"service": old}, nil
		}
		return nil, errorf(400, "InvalidParameterException", "Creation of service was not idempotent.")
	}
	if err := e.serviceConnect(key, in.ServiceConnectConfiguration, td); err != nil {
		return nil, err
	}
	var lbs []LoadBalancer
	if in.LoadBalancers != nil {
		lbs = *in.LoadBalancers
	}
	if err := e.checkLoadBalancers(lbs, td); err != nil {
		return nil, err
	}
	now := time.Now()
	svc := &Service{ServiceArn: e.arn("service", cluster+"/"+in.ServiceName), ServiceName: in.ServiceName, ClusterArn: e.arn("cluster", cluster),
		Status: "ACTIVE", LaunchType: in.LaunchType, TaskDefinition: td.TaskDefinitionArn, NetworkConfiguration: in.NetworkConfiguration,
		DeploymentConfiguration: in.DeploymentConfiguration, CreatedAt: epoch(now), PropagateTags: in.PropagateTags, Tags: in.Tags,
		Events: []ServiceEvent{}, cluster: cluster, ServiceConnectConfiguration: in.ServiceConnectConfiguration, LoadBalancers: lbs}
	if in.DesiredCount != nil {
		svc.DesiredCount = *in.DesiredCount
	}
	delete(e.gone, key)
	svc.visibleAt = now.Add(e.s.opts.CreateLag)
	e.services[key] = svc
	e.newDeployment(svc, td.TaskDefinitionArn, now)
	e.tick(now)
	return map[string]any{"service": svc}, nil
}

// checkSubnets refuses subnets that do not look like subnet IDs, as EC2
// refuses unknown ones.
func (e *ecsState) checkSubnets(nc map[string]any) *apiError {
	vpc, _ := nc["awsvpcConfiguration"].(map[string]any)
	subnets, _ := vpc["subnets"].([]any)
	if len(subnets) == 0 {
		return errorf(400, "InvalidParameterException", "subnets can not be empty.")
	}
	for _, s := range subnets {
		if id, _ := s.(string); !strings.HasPrefix(id, "subnet-") || strings.Contains(id, "missing") {
			return errorf(400, "InvalidParameterException", "Error retrieving subnet information for [%v]: The subnet ID '%v' does not exist", s, s)
		}
	}
	return nil
}

func (e *ecsState) lookup(clusterRef, name string) (*Service, *apiError) {
	cluster, err := e.cluster(clusterRef)
	if err != nil {
		return nil, err
	}
	name = name[strings.LastIndex(name, "/")+1:]
	svc, ok := e.services[cluster+"/"+name]
	if !ok {
		return nil, errorf(400, "ServiceNotFoundException", "Service not found.")
	}
	return svc, nil
}

func (e *ecsState) updateService(body []byte) (any, *apiError) {
	var in serviceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	svc, err := e.lookup(in.Cluster, in.Service)
	if err != nil {
		return nil, err
	}
	if svc.Status != "ACTIVE" {
		return nil, errorf(400, "ServiceNotActiveException", "Service was not ACTIVE.")
	}
	now := time.Now()
	if in.DeploymentConfiguration != nil {
		svc.DeploymentConfiguration = in.DeploymentConfiguration
	}
	if in.DesiredCount != nil {
		svc.DesiredCount = *in.DesiredCount
		svc.Deployments[0].DesiredCount = *in.DesiredCount
	}
	if in.ServiceConnectConfiguration != nil {
		ref := in.TaskDefinition
		if ref == "" {
			ref = svc.TaskDefinition
		}
		td := e.taskDefinition(ref)
		if td == nil || td.Status != "ACTIVE" {
			return nil, errorf(400, "InvalidParameterException", "TaskDefinition not found.")
		}
		if err := e.serviceConnect(svc.cluster+"/"+svc.ServiceName, in.ServiceConnectConfiguration, td); err != nil {
			return nil, err
		}
		// A changed Service Connect configuration is a new deployment.
		if !reflect.DeepEqual(svc.ServiceConnectConfiguration, in.ServiceConnectConfiguration) {
			svc.ServiceConnectConfiguration = in.ServiceConnectConfiguration
			in.ForceNewDeployment = true
		}
	}
	if in.LoadBalancers != nil {
		ref := in.TaskDefinition
		if ref == "" {
			ref = svc.TaskDefinition
		}
		td := e.taskDefinition(ref)
		if td == nil || td.Status != "ACTIVE" {
			return nil, errorf(400, "InvalidParameterException", "TaskDefinition not found.")
		}
		if err := e.checkLoadBalancers(*in.LoadBalancers, td); err != nil {
			return nil, err
		}
		// Changed load balancers are a new deployment.
		if !reflect.DeepEqual(svc.LoadBalancers, *in.LoadBalancers) && (len(svc.LoadBalancers) > 0 || len(*in.LoadBalancers) > 0) {
			svc.LoadBalancers = *in.LoadBalancers
			in.ForceNewDeployment = true
		}
	}
	if in.TaskDefinition != "" {
		td := e.taskDefinition(in.TaskDefinition)
		if td == nil || td.Status != "ACTIVE" {
			return nil, errorf(400, "InvalidParameterException", "TaskDefinition not found.")
		}
		if td.TaskDefinitionArn != svc.TaskDefinition {
			svc.TaskDefinition = td.TaskDefinitionArn
			e.newDeployment(svc, td.TaskDefinitionArn, now)
		} else if in.ForceNewDeployment {
			e.newDeployment(svc, td.TaskDefinitionArn, now)
		}
	} else if in.ForceNewDeployment {
		e.newDeployment(svc, svc.TaskDefinition, now)
	}
	e.tick(now)
	return map[string]any{"service": svc}, nil
}

func (e *ecsState) deleteService(body []byte) (any, *apiError) {
	var in serviceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	svc, err := e.lookup(in.Cluster, in.Service)
	if err != nil {
		if g, ok := e.gone[e.keyOf(in.Cluster, in.Service)]; ok && err.code == "ServiceNotFoundException" {
			return nil, errorf(400, "ServiceNotActiveException", "Service was not ACTIVE: %s", g.ServiceName)
		}
		return nil, err
	}
	if svc.Status == "DRAINING" {
		return map[string]any{"service": svc}, nil
	}
	if svc.DesiredCount > 0 && !in.Force {
		return nil, errorf(400, "InvalidParameterException", "The service cannot be stopped while it is scaled above 0.")
	}
	now := time.Now()
	svc.Status, svc.DesiredCount = "DRAINING", 0
	for _, d := range svc.Deployments {
		d.DesiredCount = 0
	}
	e.event(svc, now, "has begun draining connections on 0 tasks.")
	e.tick(now)
	return map[string]any{"service": svc}, nil
}

func (e *ecsState) keyOf(clusterRef, name string) string {
	return clusterRef[strings.LastIndex(clusterRef, "/")+1:] + "/" + name[strings.LastIndex(name, "/")+1:]
}

func (e *ecsState) describeServices(body []byte) (any, *apiError) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
		Include  []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	cluster, err := e.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, errorf(400, "InvalidParameterException", "services must have between 1 and 10 members.")
	}
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	var out []Service
	failures := []failure{}
	for _, ref := range in.Services {
		name := ref[strings.LastIndex(ref, "/")+1:]
		svc, ok := e.services[cluster+"/"+name]
		if ok && time.Now().Before(svc.visibleAt) {
			ok = false // eventual consistency: not visible yet
		} else if !ok {
			svc, ok = e.gone[cluster+"/"+name]
		}
		if !ok {
			failures = append(failures, failure{Arn: e.arn("service", cluster+"/"+name), Reason: "MISSING"})
			continue
		}
		cp := *svc
		if !slices.Contains(in.Include, "TAGS") {
			cp.Tags = nil
		}
		out = append(out, cp)
	}
	return map[string]any{"services": nonNil(out), "failures": failures}, nil
}

func (e *ecsState) listServices(body []byte) (any, *apiError) {
	var in struct {
		Cluster    string `json:"cluster"`
		NextToken  string `json:"nextToken"`
		MaxResults int    `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	cluster, err := e.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, k := range slices.Sorted(maps.Keys(e.services)) {
		if svc := e.services[k]; svc.cluster == cluster {
			arns = append(arns, svc.ServiceArn)
		}
	}
	pg, next, aerr := page(arns, in.NextToken, in.MaxResults, e.s.opts.PageSize)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"serviceArns": nonNil(pg), "nextToken": nilIfEmpty(next)}, nil
}

// tagResource tags or untags a service (the only resources the plugin
// tags after creating them).
func (e *ecsState) tagResource(op string, body []byte) (any, *apiError) {
	var in struct {
		ResourceArn string   `json:"resourceArn"`
		Tags        []Tag    `json:"tags"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var svc *Service
	for _, s := range e.services {
		if s.ServiceArn == in.ResourceArn {
			svc = s
		}
	}
	if svc == nil {
		return nil, errorf(400, "InvalidParameterException", "The specified resource is not found: %s", in.ResourceArn)
	}
	for _, t := range in.Tags {
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, errorf(400, "InvalidParameterException", "Tag keys with the aws: prefix are reserved.")
		}
	}
	svc.Tags = slices.DeleteFunc(svc.Tags, func(t Tag) bool {
		return slices.Contains(in.TagKeys, t.Key) || slices.ContainsFunc(in.Tags, func(n Tag) bool { return n.Key == t.Key })
	})
	if op == "TagResource" {
		svc.Tags = append(svc.Tags, in.Tags...)
	}
	if len(svc.Tags) > 50 {
		return nil, errorf(400, "InvalidParameterException", "A resource can have at most 50 tags.")
	}
	return struct{}{}, nil
}

func (e *ecsState) listTasks(body []byte) (any, *apiError) {
	var in struct {
		Cluster       string `json:"cluster"`
		ServiceName   string `json:"serviceName"`
		DesiredStatus string `json:"desiredStatus"`
		NextToken     string `json:"nextToken"`
		MaxResults    int    `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	cluster, err := e.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.DesiredStatus == "" {
		in.DesiredStatus = "RUNNING"
	}
	var arns []string
	for _, t := range e.tasks {
		if t.ClusterArn == e.arn("cluster", cluster) && (in.ServiceName == "" || t.Group == "service:"+in.ServiceName) && t.DesiredStatus == in.DesiredStatus {
			arns = append(arns, t.TaskArn)
		}
	}
	pg, next, aerr := page(arns, in.NextToken, in.MaxResults, e.s.opts.PageSize)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"taskArns": nonNil(pg), "nextToken": nilIfEmpty(next)}, nil
}

func (e *ecsState) describeTasks(body []byte) (any, *apiError) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if _, err := e.cluster(in.Cluster); err != nil {
		return nil, err
	}
	if len(in.Tasks) > 100 {
		return nil, errorf(400, "InvalidParameterException", "tasks can have at most 100 members.")
	}
	var out []Task
	type failure struct {
		Arn    string `json:"arn"`
		Reason string `json:"reason"`
	}
	failures := []failure{}
	for _, ref := range in.Tasks {
		var found *Task
		for _, t := range e.tasks {
			if t.TaskArn == ref || strings.HasSuffix(t.TaskArn, "/"+ref) {
				found = t
			}
		}
		if found == nil {
			failures = append(failures, failure{Arn: ref, Reason: "MISSING"})
			continue
		}
		out = append(out, *found)
	}
	return map[string]any{"tasks": nonNil(out), "failures": failures}, nil
}

// tick moves every task and deployment on to where time has taken it, as
// ECS's scheduler does in the background.
func (e *ecsState) tick(now time.Time) {
	step := e.s.opts.Step
	// Tasks advance through their states.
	for _, t := range e.tasks {
		switch {
		case t.DesiredStatus == "STOPPED":
			if t.LastStatus != "STOPPED" && now.After(t.stopAt.Add(step)) {
				t.LastStatus = "STOPPED"
				at := epoch(now)
				t.StoppedAt = &at
				for i := range t.Containers {
					t.Containers[i].LastStatus = "STOPPED"
					code := 0
					t.Containers[i].ExitCode = &code
				}
			} else if t.LastStatus == "RUNNING" {
				t.LastStatus = "DEACTIVATING"
			}
		default:
			if t.LastStatus == "PROVISIONING" && now.After(t.born.Add(step)) {
				t.LastStatus = "PENDING"
			}
			if t.LastStatus == "PENDING" && now.After(t.born.Add(2*step)) && e.pullFails(t) {
				at := epoch(now)
				t.LastStatus, t.DesiredStatus, t.StoppedAt, t.StopCode, t.failed = "STOPPED", "STOPPED", &at, "TaskFailedToStart", true
				t.StoppedReason = "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref " + e.imageOf(t) + ": not found"
				for i := range t.Containers {
					t.Containers[i].LastStatus = "STOPPED"
				}
			}
			if t.LastStatus == "PENDING" && now.After(t.born.Add(2*step)) {
				t.LastStatus = "RUNNING"
				at := epoch(now)
				t.StartedAt = &at
				t.logged = now
				e.log(t, now, "emulated task started")
				t.HealthStatus = "HEALTHY"
				for i := range t.Containers {
					t.Containers[i].LastStatus = "RUNNING"
					t.Containers[i].HealthStatus = "HEALTHY"
				}
			}
		}
	}
	// Running tasks write a line every step.
	for _, t := range e.tasks {
		if t.LastStatus == "RUNNING" && t.DesiredStatus == "RUNNING" {
			for next := t.logged.Add(step); !next.After(now); next = next.Add(step) {
				t.logged = next
				e.log(t, next, "emulated task is running")
			}
		}
	}
	// Stopped tasks are forgotten after a while, as ECS forgets them.
	e.tasks = slices.DeleteFunc(e.tasks, func(t *Task) bool {
		return t.LastStatus == "STOPPED" && t.StoppedAt != nil && now.Sub(time.Unix(0, int64(*t.StoppedAt*1e9))) > 20*step
	})
	for key, svc := range e.services {
		e.reconcile(svc, now)
		if svc.Status == "DRAINING" && e.live(svc, "") == 0 {
			svc.Status = "INACTIVE"
			delete(e.services, key)
			e.gone[key] = svc
		}
	}
}

// live counts the tasks of svc (of one deployment, or all) not stopping.
func (e *ecsState) live(svc *Service, deployment string) int {
	n := 0
	for _, t := range e.tasks {
		if t.Group == "service:"+svc.ServiceName && t.ClusterArn == svc.ClusterArn && t.DesiredStatus == "RUNNING" &&
			(deployment == "" || t.deployment == deployment) {
			n++
		}
	}
	return n
}

// reconcile starts and stops svc's tasks for its deployments: the primary
// one is brought to its desired count at once (maximumPercent 200 leaves
// room for it); the older ones are drained once it runs.
func (e *ecsState) reconcile(svc *Service, now time.Time) {
	if len(svc.Deployments) == 0 {
		return
	}
	primary := svc.Deployments[0]
	for _, t := range e.tasks {
		if t.failed && t.Group == "service:"+svc.ServiceName && t.ClusterArn == svc.ClusterArn {
			t.failed = false
			for _, d := range svc.Deployments {
				if d.ID == t.deployment {
					d.FailedTasks++
				}
			}
		}
	}
	// The deployment circuit breaker: it trips after max(3, min(200,
	// desired/2)) tasks failed to start, and rolls back to the deployment
	// before when asked to.
	if primary.RolloutState == "IN_PROGRESS" && primary.FailedTasks >= max(3, min(200, primary.DesiredCount/2)) {
		primary.RolloutState, primary.RolloutStateReason, primary.UpdatedAt = "FAILED", "ECS deployment circuit breaker: tasks failed to start.", epoch(now)
		e.event(svc, now, "deployment %s deployment failed: tasks failed to start.", primary.ID)
		cb, _ := svc.DeploymentConfiguration["deploymentCircuitBreaker"].(map[string]any)
		if rollback, _ := cb["rollback"].(bool); rollback && len(svc.Deployments) > 1 {
			previous := svc.Deployments[1].TaskDefinition
			primary.DesiredCount = 0
			svc.TaskDefinition = previous
			e.newDeployment(svc, previous, now)
			svc.Deployments[0].RolloutStateReason = "ECS deployment circuit breaker: rolling back to deploymentId " + svc.Deployments[2].ID + "."
			e.event(svc, now, "rolling back to task definition %s.", previous)
			primary = svc.Deployments[0]
		}
	}
	tasks := e.tasksOf(svc, primary.ID)
	for n := len(tasks); n < primary.DesiredCount && primary.RolloutState != "FAILED"; n++ {
		if !e.place(svc, primary, now) {
			break
		}
	}
	if extra := len(tasks) - primary.DesiredCount; extra > 0 {
		for _, t := range tasks[len(tasks)-extra:] {
			e.stopTask(t, now, "Scaling activity initiated by (deployment "+primary.ID+")")
		}
	}
	running := 0
	for _, t := range e.tasksOf(svc, primary.ID) {
		if t.LastStatus == "RUNNING" {
			running++
		}
	}
	if running >= primary.DesiredCount {
		for _, old := range svc.Deployments[1:] {
			for _, t := range e.tasksOf(svc, old.ID) {
				e.stopTask(t, now, "Task stopped by deployment "+primary.ID)
			}
			old.DesiredCount = 0
		}
	}
	// Counts.
	svc.RunningCount, svc.PendingCount = 0, 0
	for _, d := range svc.Deployments {
		d.RunningCount, d.PendingCount = 0, 0
		for _, t := range e.tasksOf(svc, d.ID) {
			switch t.LastStatus {
			case "RUNNING":
				d.RunningCount++
			case "PROVISIONING", "PENDING":
				d.PendingCount++
			}
		}
		svc.RunningCount += d.RunningCount
		svc.PendingCount += d.PendingCount
	}
	// The old deployments go once their tasks have stopped.
	oldLive := 0
	for _, t := range e.tasks {
		if t.Group == "service:"+svc.ServiceName && t.ClusterArn == svc.ClusterArn && t.deployment != primary.ID && t.LastStatus != "STOPPED" {
			oldLive++
		}
	}
	if primary.RolloutState == "IN_PROGRESS" && primary.RunningCount == primary.DesiredCount && primary.PendingCount == 0 && oldLive == 0 {
		primary.RolloutState, primary.RolloutStateReason, primary.UpdatedAt = "COMPLETED", "ECS deployment "+primary.ID+" completed.", epoch(now)
		svc.Deployments = svc.Deployments[:1]
		if svc.Status == "ACTIVE" {
			e.event(svc, now, "has reached a steady state.")
		}
	}
}

func (e *ecsState) tasksOf(svc *Service, deployment string) []*Task {
	var out []*Task
	for _, t := range e.tasks {
		if t.Group == "service:"+svc.ServiceName && t.ClusterArn == svc.ClusterArn && t.deployment == deployment && t.DesiredStatus == "RUNNING" {
			out = append(out, t)
		}
	}
	return out
}

func (e *ecsState) startTask(svc *Service, d *Deployment, now time.Time) {
	e.seq++
	id := fmt.Sprintf("%032x", uint64(now.UnixNano())^uint64(e.seq)<<40|uint64(e.seq))
	td := e.taskDefinition(d.TaskDefinition)
	t := &Task{TaskArn: e.arn("task", svc.cluster+"/"+id), ClusterArn: svc.ClusterArn, TaskDefinitionArn: d.TaskDefinition,
		Group: "service:" + svc.ServiceName, LastStatus: "PROVISIONING", DesiredStatus: "RUNNING", HealthStatus: "UNKNOWN",
		LaunchType: "FARGATE", CreatedAt: epoch(now), deployment: d.ID, born: now}
	if td != nil {
		t.Cpu, t.Memory = td.Cpu, td.Memory
		for _, c := range td.ContainerDefinitions {
			t.Containers = append(t.Containers, Container{Name: c.Name, LastStatus: "PENDING", HealthStatus: "UNKNOWN"})
		}
	}
	if svc.PropagateTags == "SERVICE" {
		t.Tags = svc.Tags
	}
	e.tasks = append(e.tasks, t)
	e.event(svc, now, "has started 1 tasks: (task %s).", id)
}

// pullFails says whether one of t's images is missing.
func (e *ecsState) pullFails(t *Task) bool { return e.s.missingImages[e.imageOf(t)] }

// imageOf returns the first image of t's missing ones, or its first image.
func (e *ecsState) imageOf(t *Task) string {
	td := e.taskDefinition(t.TaskDefinitionArn)
	if td == nil {
		return ""
	}
	for _, c := range td.ContainerDefinitions {
		if e.s.missingImages[c.Image] {
			return c.Image
		}
	}
	return td.ContainerDefinitions[0].Image
}

// log writes a line of each of t's containers that log with awslogs to
// its stream, <prefix>/<container>/<task id>, as the awslogs driver names it.
func (e *ecsState) log(t *Task, at time.Time, msg string) {
	td := e.taskDefinition(t.TaskDefinitionArn)
	if td == nil {
		return
	}
	id := t.TaskArn[strings.LastIndex(t.TaskArn, "/")+1:]
	for _, c := range td.ContainerDefinitions {
		if lc := c.LogConfiguration; lc != nil && lc.LogDriver == "awslogs" {
			stream := lc.Options["awslogs-stream-prefix"] + "/" + c.Name + "/" + id
			e.s.logs.write(lc.Options["awslogs-group"], stream, at, fmt.Sprintf("%s: %s (image %s)", id[:8], msg, c.Image))
		}
	}
}

func (e *ecsState) stopTask(t *Task, now time.Time, reason string) {
	if t.DesiredStatus == "STOPPED" {
		return
	}
	t.DesiredStatus, t.StoppedReason, t.StopCode, t.stopAt = "STOPPED", reason, "ServiceSchedulerInitiated", now
}

// Snapshot is a copy of the emulator's state, for tests to inspect.
type Snapshot struct {
	TaskDefinitions    []TaskDefinition
	TaskDefinitionTags map[string][]Tag
	Services           []Service
	Tasks              []Task
	LogGroups          map[string]map[string]string
	Secrets            map[string]SecretSnapshot
	// AssumedCalls counts, per role, the calls signed with a session STS
	// issued for it.
	AssumedCalls map[string]int
	// Namespaces are the Cloud Map namespaces, by name, whose creation
	// has completed.
	Namespaces map[string]NamespaceSnapshot
	// TargetGroups are the load balancer target groups by name, Rules the
	// listener rules.
	TargetGroups map[string]TargetGroupSnapshot
	Rules        []RuleSnapshot
}

// SecretSnapshot is one stored secret.
type SecretSnapshot struct {
	ARN   string
	Value string
	Tags  map[string]string
}

// Snapshot copies the emulator's state.
func (s *Server) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ecs.tick(time.Now())
	snap := Snapshot{TaskDefinitionTags: map[string][]Tag{}, LogGroups: map[string]map[string]string{}, Secrets: map[string]SecretSnapshot{},
		AssumedCalls: maps.Clone(s.assumed)}
	for _, f := range slices.Sorted(maps.Keys(s.ecs.families)) {
		for _, td := range s.ecs.families[f] {
			snap.TaskDefinitions = append(snap.TaskDefinitions, *td)
			snap.TaskDefinitionTags[td.TaskDefinitionArn] = td.tags
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.ecs.services)) {
		snap.Services = append(snap.Services, *s.ecs.services[k])
	}
	for _, t := range s.ecs.tasks {
		snap.Tasks = append(snap.Tasks, *t)
	}
	for name, g := range s.logs.groups {
		snap.LogGroups[name] = maps.Clone(g.tags)
	}
	for name, sec := range s.sm.secrets {
		snap.Secrets[name] = SecretSnapshot{ARN: sec.arn, Value: sec.value, Tags: maps.Clone(sec.tags)}
	}
	snap.Namespaces = map[string]NamespaceSnapshot{}
	for _, ns := range s.sd.namespaces {
		if time.Now().Before(ns.readyAt) {
			continue
		}
		n := NamespaceSnapshot{ID: ns.id, ARN: ns.arn, Tags: maps.Clone(ns.tags), Services: []string{}}
		for _, svc := range s.sd.services {
			if svc.namespaceID == ns.id {
				n.Services = append(n.Services, svc.name)
			}
		}
		slices.Sort(n.Services)
		snap.Namespaces[ns.name] = n
	}
	snap.TargetGroups = map[string]TargetGroupSnapshot{}
	for _, tg := range s.elb.targetGroups {
		snap.TargetGroups[tg.name] = TargetGroupSnapshot{ARN: tg.arn, TargetType: tg.targetType, Protocol: tg.protocol, Port: tg.port, Tags: maps.Clone(tg.tags)}
	}
	for _, arn := range slices.Sorted(maps.Keys(s.elb.rules)) {
		r := s.elb.rules[arn]
		rs := RuleSnapshot{Priority: r.priority, Paths: slices.Clone(r.paths), Tags: maps.Clone(r.tags)}
		if tg, ok := s.elb.targetGroups[r.targetGroup]; ok {
			rs.TargetGroup, rs.Port = tg.name, tg.port
		}
		snap.Rules = append(snap.Rules, rs)
	}
	return snap
}
