#include "CCurlShim.h"
#include <string.h>

CURLcode cortex_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cortex_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cortex_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cortex_curl_setopt_cainfo_blob(CURL *handle, const void *bytes, size_t length) {
    struct curl_blob blob;
    blob.data = (void *)bytes;
    blob.len = length;
    blob.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &blob);
}

static size_t cortex_curl_read(char *buffer, size_t size, size_t count, void *userdata) {
    cortex_curl_upload *upload = (cortex_curl_upload *)userdata;
    size_t room = size * count;
    size_t left = upload->length - upload->offset;
    size_t chunk = left < room ? left : room;
    memcpy(buffer, upload->bytes + upload->offset, chunk);
    upload->offset += chunk;
    return chunk;
}

CURLcode cortex_curl_set_upload(CURL *handle, cortex_curl_upload *upload) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_READFUNCTION, cortex_curl_read);
    if (code != CURLE_OK) return code;
    code = curl_easy_setopt(handle, CURLOPT_READDATA, upload);
    if (code != CURLE_OK) return code;
    code = curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, (curl_off_t)upload->length);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
}

CURLcode cortex_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
