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
    long new_connections;      // connections this request opened (0 when it reused one)
    char error[256];
} ccurl_response;

/// Why libcurl cannot be used (it is loaded from libcurl.so.4 on first use), or NULL when it can.
const char *ccurl_load_error(void);

/// A reusable connection (keep-alive): one request at a time; only ccurl_cancel may be called from
/// another thread while a request runs. NULL when libcurl cannot be loaded (see ccurl_load_error).
ccurl_handle *ccurl_open(void);
void ccurl_close(ccurl_handle *handle);

/// Clears an earlier cancellation, so that the next request on the handle runs. Call it before
/// handing the handle to a request whose cancellation may then come at any moment.
void ccurl_arm(ccurl_handle *handle);

/// Aborts the request running on the handle, or the next one if none runs yet: ccurl_perform returns
/// CCURL_CANCELLED at once. Safe to call from any thread.
void ccurl_cancel(ccurl_handle *handle);

/// ccurl_perform's result when ccurl_cancel stopped the request.
#define CCURL_CANCELLED (-2)
/// ccurl_perform's result when the response body passed the request's max_body.
#define CCURL_TOO_LARGE (-3)

/// Performs the request, blocking. Returns 0 when an HTTP answer arrived (any status), CCURL_CANCELLED
/// when it was cancelled, CCURL_TOO_LARGE when the body passed max_body, another non-zero value on a
/// transport failure.
int ccurl_perform(ccurl_handle *handle, const ccurl_request *request, ccurl_response *response);


void ccurl_free(ccurl_response *response);

/// One mail to send through an SMTP server.
typedef struct {
    const char *url;                  // smtp://[user:password@]host[:port] or smtps://…; the credentials log in
    const char *from;                 // the envelope sender, an address
    const char *const *recipients;    // `recipient_count` addresses
    size_t recipient_count;
    const unsigned char *message;     // the whole message, headers and body, lines ending in CRLF
    size_t message_length;
    long timeout_ms;                  // the whole exchange
    int require_tls;                  // smtp://: refuse to go on without STARTTLS (otherwise used when offered)
    int insecure;                     // skip certificate and host verification
    const char *ca_path;              // a CA bundle file, or NULL for the system's
} ccurl_mail;

/// Sends one mail, blocking, on a connection of its own. Returns 0 when the server took it, non-zero
/// otherwise with `error` (256 bytes) saying why.
int ccurl_send_mail(const ccurl_mail *mail, char *error);

#ifdef __cplusplus
}
#endif

#endif
