module github.com/alphaswarm/controller/tools

go 1.26
