#ifndef CORTEX_CCURL_SHIM_H
#define CORTEX_CCURL_SHIM_H

// libcurl for Swift. curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot
// call, so this shim exposes one typed, non-variadic wrapper per argument kind, plus an
// in-memory upload source for SMTP's DATA.

#include <curl/curl.h>
#include <stddef.h>

/// An upload read from memory: libcurl pulls the message from here during DATA.
typedef struct cortex_curl_upload {
    const char *bytes;
    size_t length;
    size_t offset;
} cortex_curl_upload;

CURLcode cortex_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode cortex_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode cortex_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
/// Sets a PEM bundle held in memory (CURLOPT_CAINFO_BLOB); libcurl copies the bytes.
CURLcode cortex_curl_setopt_cainfo_blob(CURL *handle, const void *bytes, size_t length);
/// Makes the next transfer an upload of `upload`, which must outlive curl_easy_perform.
CURLcode cortex_curl_set_upload(CURL *handle, cortex_curl_upload *upload);
CURLcode cortex_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
