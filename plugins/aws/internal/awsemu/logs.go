package awsemu

import (
	"strings"
	"time"
)

type logGroup struct {
	created time.Time
	tags    map[string]string
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
