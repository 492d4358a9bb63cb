// Package check holds the tests of the deployment manifests.
package check
