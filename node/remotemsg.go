package node

import (
	"errors"
	"strings"

	"github.com/ringcache/ringcache/understore"
)

// remoteMessage is the message of a read-path error as the page stream
// sends it. The reader asked for the path and learns the node and the
// status from the response, so an under-store failure is told by what the
// under-store did and why ("under-store stat: statat: no such file or
// directory"), not by the path a third time; other errors go as they are.
func remoteMessage(err error) string {
	var oe *understore.OpError
	if !errors.As(err, &oe) {
		return err.Error()
	}
	why := oe.Reason()
	if why == "" && oe.Kind != nil {
		// No cause from the backend: the sentinel is all there is to say
		// (out of scope, say), without its package prefix.
		why = strings.TrimPrefix(oe.Kind.Error(), "understore: ")
	}
	if why == "" {
		return "under-store " + oe.Op
	}
	return "under-store " + oe.Op + ": " + why
}
