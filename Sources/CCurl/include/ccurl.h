// A narrow C face over libcurl's easy interface for Swift: curl_easy_setopt is variadic, which Swift
// cannot call, so each option the project needs gets a typed function here.
#ifndef SCHEDULERD_CCURL_H
#define SCHEDULERD_CCURL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ccurl_handle ccurl_handle;

/// One request's inputs. `headers` holds `count` NUL-terminated "Name: value" lines.
typedef struct {
    const char *method;        // "GET" or "POST"
    const char *url;
    const char *const *headers;
    size_t header_count;
    const unsigned char *body; // may be NULL
    size_t body_length;
    long timeout_ms;           // whole transfer
    long connect_timeout_ms;
    int insecure;              // skip certificate and host verification
    const char *ca_path;       // a CA bundle file, or NULL for the system's
    size_t max_body;           // the largest response body kept; a longer one fails the request (0: no limit)
} ccurl_request;

/// One request's outcome. On success `status` is the HTTP status and `body` the response body
/// (malloc'd; free with ccurl_free). On a transport failure the return value is non-zero and `error`
/// holds a message.
typedef struct {
    long status;
    unsigned char *body;
    size_t body_length;
    char *retry_after;         // the Retry-After header value, malloc'd, or NULL
    char error[256];
} ccurl_response;

/// A reusable connection (keep-alive); not thread-safe: one request at a time.
ccurl_handle *ccurl_open(void);
void ccurl_close(ccurl_handle *handle);

/// Performs the request, blocking. Returns 0 when an HTTP answer arrived (any status).
int ccurl_perform(ccurl_handle *handle, const ccurl_request *request, ccurl_response *response);

void ccurl_free(ccurl_response *response);

#ifdef __cplusplus
}
#endif

#endif
