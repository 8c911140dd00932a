package wire

// Op names an operation on deployments the same way everywhere: the
// swarmctl command, the last element of its API route, the kind of job it
// queues and the action the audit log records.
type Op string

// The operations.
const (
	OpPlan     Op = "plan"
	OpApply    Op = "apply"
	OpRollback Op = "rollback"
	OpDestroy  Op = "destroy"
	OpRestart  Op = "restart"
	OpStart    Op = "start"
	OpStop     Op = "stop"
	OpScale    Op = "scale"
	OpLogs     Op = "logs"
	OpExec     Op = "exec"
)

// RuntimeOps are the operations on a deployment that take an
// OperationRequest and queue a job of their own kind.
var RuntimeOps = []Op{OpDestroy, OpRestart, OpStart, OpStop, OpScale}

// JobKind is the kind of the job the operation queues, as jobs are stored
// (and shown in Job.Kind); "" for an operation that queues none. A
// rollback applies an earlier revision's spec, and has always been stored
// as an apply job.
func (o Op) JobKind() Op {
	switch o {
	case OpPlan, OpLogs, OpExec:
		return ""
	case OpRollback:
		return OpApply
	}
	return o
}

// AuditAction is the action the audit log records for the operation.
// Reading logs has always been recorded as "read logs", beside the other
// reads ("read deployment", "read job").
func (o Op) AuditAction() string {
	if o == OpLogs {
		return "read logs"
	}
	return string(o)
}
