/*
 * Which devices the TensorFlow C library in front of it has kernels for: links against the
 * library (libtensorflow.so in tfjs-node's or tfjs-node-gpu's deps/lib), asks it for every
 * registered kernel (TF_GetAllRegisteredKernels: a serialized tensorflow.KernelList) and prints one
 * line per device type with its kernel count, e.g. "CPU 5123" and, for a CUDA build, "GPU 3456".
 * A CPU-only build registers no GPU kernel at all, so this tells the two builds apart on any
 * machine, with or without a GPU. Built and run by scripts/native-install.sh --check and the tests.
 *
 * The protobuf is walked by hand (only what is needed): KernelList { repeated KernelDef kernel = 1; }
 * KernelDef { string op = 1; string device_type = 2; ... }.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "tensorflow/c/c_api.h"

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; *p < end && shift < 64; shift += 7) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) { *out = v; return 1; }
  }
  return 0;
}

/* Skips one field of the given wire type; 0 on malformed input. */
static int skip(const uint8_t **p, const uint8_t *end, int wire) {
  uint64_t n;
  switch (wire) {
    case 0: return varint(p, end, &n);
    case 1: if (end - *p < 8) return 0; *p += 8; return 1;
    case 2: if (!varint(p, end, &n) || (uint64_t)(end - *p) < n) return 0; *p += n; return 1;
    case 5: if (end - *p < 4) return 0; *p += 4; return 1;
    default: return 0;
  }
}

#define MAX_TYPES 32
static char names[MAX_TYPES][32];
static long counts[MAX_TYPES];
static int types = 0;

static void count(const uint8_t *s, uint64_t len) {
  if (len >= sizeof names[0]) len = sizeof names[0] - 1;
  for (int i = 0; i < types; i++)
    if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) { counts[i]++; return; }
  if (types == MAX_TYPES) return;
  memcpy(names[types], s, len);
  names[types][len] = 0;
  counts[types++] = 1;
}

int main(void) {
  TF_Status *status = TF_NewStatus();
  TF_Buffer *buffer = TF_GetAllRegisteredKernels(status);
  if (TF_GetCode(status) != TF_OK) {
    fprintf(stderr, "TF_GetAllRegisteredKernels: %s\n", TF_Message(status));
    return 1;
  }
  const uint8_t *p = buffer->data, *end = p + buffer->length;
  while (p < end) {
    uint64_t key, len;
    if (!varint(&p, end, &key)) return 2;
    if ((key >> 3) != 1 || (key & 7) != 2) { if (!skip(&p, end, key & 7)) return 2; continue; }
    if (!varint(&p, end, &len) || (uint64_t)(end - p) < len) return 2;
    const uint8_t *k = p, *kend = p + len;
    p = kend;
    while (k < kend) {
      uint64_t kkey, slen;
      if (!varint(&k, kend, &kkey)) return 2;
      if ((kkey >> 3) == 2 && (kkey & 7) == 2) {
        if (!varint(&k, kend, &slen) || (uint64_t)(kend - k) < slen) return 2;
        count(k, slen);
        k += slen;
      } else if (!skip(&k, kend, kkey & 7)) {
        return 2;
      }
    }
  }
  printf("TensorFlow %s\n", TF_Version());
  for (int i = 0; i < types; i++) printf("%s %ld\n", names[i], counts[i]);
  TF_DeleteBuffer(buffer);
  TF_DeleteStatus(status);
  return 0;
}
