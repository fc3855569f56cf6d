// Command pause is the sandbox (infra) container of the real node's pods: it holds the
// pod's namespaces open, reaps orphaned children, and exits on SIGINT or SIGTERM,
// like Kubernetes' own pause binary. Built static and put alone in an image by
// hack/images/build.sh; containerd's sandbox_image points at that image.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		os.Stdout.WriteString("aijob pause\n")
		return
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
