#include "ccurl.h"

// curl.h's type-checking wrappers would turn curl_easy_setopt into a macro of its own.
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// The easy handle runs inside its own multi handle: the multi keeps the connection cache between
// requests, and its poll can be woken from another thread, which is how a cancellation stops a
// transfer at once instead of at libcurl's next progress callback.
struct ccurl_handle {
    CURL *easy;
    CURLM *multi;
    atomic_int cancelled;
};

typedef struct {
    unsigned char *data;
    size_t length;
    size_t capacity;
    size_t max;  // 0: no limit
    int over;    // set when the body passed max
} buffer;

// libcurl is loaded when the first request or mail needs it, not when the program starts: with the
// thirty libraries it brings (TLS, HTTP/2, LDAP, Kerberos, ...) it is most of what the dynamic loader
// does at a start, and a `schedule next` or a daemon without MLflow or alerts never sends a request.
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
    CURLMcode (*multi_wakeup)(CURLM *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
} lib;

// Set when libcurl could not be loaded: what ccurl_load_error returns.
static char load_error[256];

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(load_error, sizeof(load_error), "libcurl cannot be loaded (install libcurl4): %s", dlerror());
        return;
    }
// Each table entry `name` is libcurl's `curl_name`.
#define LOAD(name)                                                                                  \
    if (!(*(void **)&lib.name = dlsym(library, "curl_" #name))) {                                   \
        snprintf(load_error, sizeof(load_error), "libcurl.so.4 has no curl_%s; it is older than 7.68", #name); \
        return;                                                                                     \
    }
    LOAD(global_init)
    LOAD(easy_init)
    LOAD(easy_cleanup)
    LOAD(easy_reset)
    LOAD(easy_setopt)
    LOAD(easy_getinfo)
    LOAD(easy_perform)
    LOAD(easy_strerror)
    LOAD(slist_append)
    LOAD(slist_free_all)
    LOAD(multi_init)
    LOAD(multi_cleanup)
    LOAD(multi_add_handle)
    LOAD(multi_remove_handle)
    LOAD(multi_perform)
    LOAD(multi_poll)
    LOAD(multi_wakeup)
    LOAD(multi_info_read)
#undef LOAD
    if (lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(load_error, sizeof(load_error), "libcurl could not be initialised");
    }
}

// Loads libcurl on the first call; false (with load_error set) when it cannot be used.
static int loaded(void) {
    pthread_once(&global_once, global_init);
    return load_error[0] == 0;
}

const char *ccurl_load_error(void) { return loaded() ? NULL : load_error; }

// Every call below goes through the table (curl.h defines these two as macros of themselves).
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init lib.easy_init
#define curl_easy_cleanup lib.easy_cleanup
#define curl_easy_reset lib.easy_reset
#define curl_easy_setopt lib.easy_setopt
#define curl_easy_getinfo lib.easy_getinfo
#define curl_easy_perform lib.easy_perform
#define curl_easy_strerror lib.easy_strerror
#define curl_slist_append lib.slist_append
#define curl_slist_free_all lib.slist_free_all
#define curl_multi_init lib.multi_init
#define curl_multi_cleanup lib.multi_cleanup
#define curl_multi_add_handle lib.multi_add_handle
#define curl_multi_remove_handle lib.multi_remove_handle
#define curl_multi_perform lib.multi_perform
#define curl_multi_poll lib.multi_poll
#define curl_multi_wakeup lib.multi_wakeup
#define curl_multi_info_read lib.multi_info_read

static size_t on_body(char *ptr, size_t size, size_t count, void *context) {
    buffer *b = context;
    size_t n = size * count;
    if (b->max && (n > b->max || b->length > b->max - n)) {
        b->over = 1;
        return 0;  // makes curl fail with a write error; the message says why
    }
    if (b->length + n + 1 > b->capacity) {
        size_t capacity = b->capacity ? b->capacity * 2 : 4096;
        while (capacity < b->length + n + 1) capacity *= 2;
        unsigned char *grown = realloc(b->data, capacity);
        if (!grown) return 0;  // makes curl fail with a write error
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, ptr, n);
    b->length += n;
    b->data[b->length] = 0;
    return n;
}

static size_t on_header(char *line, size_t size, size_t count, void *context) {
    char **retry_after = context;
    size_t n = size * count;
    static const char name[] = "retry-after:";
    if (n > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
        const char *value = line + sizeof(name) - 1;
        size_t length = n - (sizeof(name) - 1);
        while (length && (*value == ' ' || *value == '\t')) { value++; length--; }
        while (length && (value[length - 1] == '\r' || value[length - 1] == '\n' || value[length - 1] == ' ')) length--;
        free(*retry_after);
        *retry_after = malloc(length + 1);
        if (*retry_after) {
            memcpy(*retry_after, value, length);
            (*retry_after)[length] = 0;
        }
    }
    return n;
}

ccurl_handle *ccurl_open(void) {
    if (!loaded()) return NULL;
    ccurl_handle *handle = calloc(1, sizeof(ccurl_handle));
    if (!handle) return NULL;
    handle->easy = curl_easy_init();
    handle->multi = curl_multi_init();
    if (!handle->easy || !handle->multi) {
        if (handle->easy) curl_easy_cleanup(handle->easy);
        if (handle->multi) curl_multi_cleanup(handle->multi);
        free(handle);
        return NULL;
    }
    atomic_init(&handle->cancelled, 0);
    return handle;
}

void ccurl_close(ccurl_handle *handle) {
    if (!handle) return;
    curl_multi_cleanup(handle->multi);
    curl_easy_cleanup(handle->easy);
    free(handle);
}

void ccurl_arm(ccurl_handle *handle) { atomic_store(&handle->cancelled, 0); }

void ccurl_cancel(ccurl_handle *handle) {
    atomic_store(&handle->cancelled, 1);
    curl_multi_wakeup(handle->multi);
}

// Drives the transfer until it ends or is cancelled. Returns the transfer's result, or
// CCURL_CANCELLED.
static int run_transfer(ccurl_handle *handle, long *new_connections) {
    CURLMcode added = curl_multi_add_handle(handle->multi, handle->easy);
    if (added != CURLM_OK) return CURLE_FAILED_INIT;
    int running = 1;
    int result = CURLE_OK;
    while (running) {
        if (atomic_load(&handle->cancelled)) {
            result = CCURL_CANCELLED;
            break;
        }
        CURLMcode code = curl_multi_perform(handle->multi, &running);
        if (code != CURLM_OK) {
            result = CURLE_FAILED_INIT;
            break;
        }
        if (!running) break;
        // Wakes on socket activity, on ccurl_cancel, or after a second at most (libcurl's own timers,
        // such as the request timeout, are honoured within that wait).
        code = curl_multi_poll(handle->multi, NULL, 0, 1000, NULL);
        if (code != CURLM_OK) {
            result = CURLE_FAILED_INIT;
            break;
        }
    }
    if (result == CURLE_OK) {
        int queued = 0;
        CURLMsg *message;
        result = CURLE_FAILED_INIT;
        while ((message = curl_multi_info_read(handle->multi, &queued))) {
            if (message->msg == CURLMSG_DONE && message->easy_handle == handle->easy) result = message->data.result;
        }
    }
    curl_multi_remove_handle(handle->multi, handle->easy);
    long opened = 0;
    if (curl_easy_getinfo(handle->easy, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK) *new_connections = opened;
    return result;
}

int ccurl_perform(ccurl_handle *handle, const ccurl_request *request, ccurl_response *response) {
    memset(response, 0, sizeof(*response));
    CURL *easy = handle->easy;
    curl_easy_reset(easy);  // keeps the connection cache, forgets the previous request's options
    buffer body = {0};
    body.max = request->max_body;
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i < request->header_count; i++) {
        struct curl_slist *next = curl_slist_append(headers, request->headers[i]);
        if (!next) {
            curl_slist_free_all(headers);
            strncpy(response->error, "out of memory", sizeof(response->error) - 1);
            return -1;
        }
        headers = next;
    }
    // No "Expect: 100-continue" round trip before bodies.
    headers = curl_slist_append(headers, "Expect:");

    curl_easy_setopt(easy, CURLOPT_URL, request->url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, request->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, request->connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &response->retry_after);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, response->error);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (request->insecure) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (request->ca_path) curl_easy_setopt(easy, CURLOPT_CAINFO, request->ca_path);
    /* The handle is reused: reset what an earlier request may have set. */
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(easy, CURLOPT_NOBODY, 0L);
    if (strcmp(request->method, "GET") == 0) {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(request->method, "HEAD") == 0) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else {
        /* POST, PUT, PATCH, DELETE: a body (possibly empty) sent with the given method. */
        curl_easy_setopt(easy, CURLOPT_POST, 1L);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request->body ? (const char *)request->body : "");
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_length);
        if (strcmp(request->method, "POST") != 0) curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request->method);
    }

    int code = run_transfer(handle, &response->new_connections);
    curl_slist_free_all(headers);
    if (code != CURLE_OK) {
        if (code == CCURL_CANCELLED) {
            strncpy(response->error, "the request was cancelled", sizeof(response->error) - 1);
        } else if (body.over) {
            snprintf(response->error, sizeof(response->error), "the response body is over %zu bytes", body.max);
            code = CCURL_TOO_LARGE;
        } else if (!response->error[0]) {
            strncpy(response->error, curl_easy_strerror((CURLcode)code), sizeof(response->error) - 1);
        }
        free(body.data);
        free(response->retry_after);
        response->retry_after = NULL;
        return (int)code;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response->status);
    response->body = body.data;
    response->body_length = body.length;
    return 0;
}

void ccurl_free(ccurl_response *response) {
    free(response->body);
    free(response->retry_after);
    response->body = NULL;
    response->retry_after = NULL;
}

// Mail: libcurl's SMTP client on an easy handle of its own (alerts are few; no connection is kept).

typedef struct {
    const unsigned char *data;
    size_t length;
    size_t offset;
} reader;

static size_t on_read(char *buffer, size_t size, size_t count, void *context) {
    reader *r = context;
    size_t room = size * count;
    size_t left = r->length - r->offset;
    size_t n = left < room ? left : room;
    memcpy(buffer, r->data + r->offset, n);
    r->offset += n;
    return n;
}

int ccurl_send_mail(const ccurl_mail *mail, char *error) {
    error[0] = 0;
    if (!loaded()) {
        snprintf(error, 256, "%s", load_error);
        return -1;
    }
    CURL *easy = curl_easy_init();
    if (!easy) {
        snprintf(error, 256, "libcurl could not be initialised");
        return -1;
    }
    struct curl_slist *recipients = NULL;
    for (size_t i = 0; i < mail->recipient_count; i++) {
        char address[512];
        snprintf(address, sizeof(address), "<%s>", mail->recipients[i]);
        recipients = curl_slist_append(recipients, address);
    }
    char from[512];
    snprintf(from, sizeof(from), "<%s>", mail->from);
    reader body = {mail->message, mail->message_length, 0};
    char curl_error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(easy, CURLOPT_URL, mail->url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(easy, CURLOPT_READDATA, &body);
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_USE_SSL, mail->require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, mail->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, mail->timeout_ms < 10000 ? mail->timeout_ms : 10000L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, curl_error);
    if (mail->insecure) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (mail->ca_path) curl_easy_setopt(easy, CURLOPT_CAINFO, mail->ca_path);
    CURLcode code = curl_easy_perform(easy);
    if (code != CURLE_OK) {
        snprintf(error, 256, "%s", curl_error[0] ? curl_error : curl_easy_strerror(code));
    }
    curl_slist_free_all(recipients);
    curl_easy_cleanup(easy);
    return code == CURLE_OK ? 0 : (int)code;
}
