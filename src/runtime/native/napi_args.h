/* Argument readers shared by the relay's C addons (N-API). A value of the wrong type reads as
 * 0 or NULL, which each call then refuses. */
#ifndef NGRELAY_NAPI_ARGS_H
#define NGRELAY_NAPI_ARGS_H
#include <node_api.h>
#include <stdint.h>

static inline int32_t arg_i32(napi_env env, napi_value v) {
  int32_t r = 0;
  napi_get_value_int32(env, v, &r);
  return r;
}

static inline uint32_t arg_u32(napi_env env, napi_value v) {
  uint32_t r = 0;
  napi_get_value_uint32(env, v, &r);
  return r;
}

static inline void *arg_external(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

/* A typed array's data and its length in elements, if it is of type `want`. */
static inline void *arg_array(napi_env env, napi_value v, napi_typedarray_type want, size_t *len) {
  napi_typedarray_type t;
  void *data = NULL;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, &data, &ab, &off) != napi_ok || t != want) {
    *len = 0;
    return NULL;
  }
  return data;
}

#endif
