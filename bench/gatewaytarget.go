package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrNotImplemented marks an S3 endpoint that answers an operation with
// 501 NotImplemented (a gateway without write handlers).
var ErrNotImplemented = errors.New("bench: the S3 endpoint does not implement the operation")

// GatewayConfig is how the bench reaches a ringcache S3 gateway.
type GatewayConfig struct {
	// Endpoint is the gateway's URL, e.g. http://127.0.0.1:7200. Required.
	Endpoint string
	// AccessKey and SecretKey sign the requests (one of the gateway's
	// --s3-keys); `ringcache dev` and `bench --dev` use ringcache:ringcache.
	AccessKey, SecretKey string
	// Region signs the requests. Default us-east-1.
	Region string
	// HTTPClient, when set, replaces the S3 client's own.
	HTTPClient *http.Client
}

// GatewayTarget writes with PutObject and reads with ranged GetObject
// through a ringcache S3 gateway, path-style, with aws-sdk-go-v2's default
// settings otherwise (its default request checksums included): what an
// application using the AWS SDK sends.
type GatewayTarget struct {
	s3       *s3.Client
	endpoint string
}

// NewGatewayTarget returns a target for the gateway at cfg.Endpoint.
func NewGatewayTarget(cfg GatewayConfig) (*GatewayTarget, error) {
	if cfg.Endpoint == "" || !strings.Contains(cfg.Endpoint, "://") {
		return nil, fmt.Errorf("%w: gateway endpoint %q: want a URL like http://host:port", ErrConfig, cfg.Endpoint)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	o := s3.Options{
		Region: cfg.Region, BaseEndpoint: aws.String(cfg.Endpoint), UsePathStyle: true,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")),
	}
	if cfg.HTTPClient != nil {
		o.HTTPClient = cfg.HTTPClient
	}
	return &GatewayTarget{s3: s3.New(o), endpoint: cfg.Endpoint}, nil
}

// Kind is "gateway".
func (*GatewayTarget) Kind() string { return "gateway" }

// Endpoint is the gateway's URL.
func (t *GatewayTarget) Endpoint() string { return t.endpoint }

// Put is one PutObject of size bytes.
func (t *GatewayTarget) Put(ctx context.Context, path string, body io.ReadSeeker, size int64) error {
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || key == "" {
		return fmt.Errorf("%w: path %q: want bucket/key", ErrConfig, path)
	}
	_, err := t.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size)})
	return s3Err("PutObject", path, err)
}

// ReadAt is one ranged GetObject of len(p) bytes at off. The gateway does
// not say where the bytes came from: the ReadStats are empty, and the
// write-through workload learns hits from the nodes' metrics instead.
func (t *GatewayTarget) ReadAt(ctx context.Context, path string, p []byte, off int64) (int, ReadStats, error) {
	if len(p) == 0 {
		return 0, ReadStats{}, nil
	}
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || key == "" {
		return 0, ReadStats{}, fmt.Errorf("%w: path %q: want bucket/key", ErrConfig, path)
	}
	rng := fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1)
	out, err := t.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Range: aws.String(rng)})
	if err != nil {
		return 0, ReadStats{}, s3Err("GetObject", path, err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF // a short object, like io.ReaderAt
	}
	return n, ReadStats{}, err
}

// s3Err names the operation and marks a 501 answer with ErrNotImplemented.
func s3Err(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var re *smithyhttp.ResponseError
	var ae smithy.APIError
	if (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotImplemented) ||
		(errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented") {
		return fmt.Errorf("%w: %s %s: %w", ErrNotImplemented, op, path, err)
	}
	return fmt.Errorf("bench: %s %s: %w", op, path, err)
}
