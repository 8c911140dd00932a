module github.com/alphaswarm/controller/host

go 1.26
