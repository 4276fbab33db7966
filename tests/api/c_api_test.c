/* The C API driven from C: load from a file and from bytes, metadata, a run
 * into the caller's buffers against the reference output shipped with the
 * model, and the errors. Plain C (no test framework): each failed check prints
 * its line and the exit code is the number of failures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_mini/onnx_mini_c.h"

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

static const char* kModel = ONNX_MINI_SOURCE_DIR "/models/mlp_classifier/model.onnx";

static char* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* data = malloc((size_t)n);
  *size = fread(data, 1, (size_t)n, f);
  fclose(f);
  return data;
}

/* The reference computed in double by this test: softmax rows sum to 1. */
static void check_run(onnx_mini_session* s) {
  enum { kBatch = 3 };
  float x[kBatch * 784];
  for (int i = 0; i < kBatch * 784; ++i) x[i] = (float)((i % 13) - 6) * 0.05f;
  int64_t in_shape[2] = {kBatch, 784};
  onnx_mini_tensor in = {"input", 1, 2, in_shape, 2, x, sizeof x};
  float y[kBatch * 10 + 1];
  y[kBatch * 10] = -7.f;
  int64_t out_shape[4] = {0, 0, 0, 0};
  onnx_mini_tensor out = {"probs", 0, 0, out_shape, 4, y, kBatch * 10 * sizeof(float)};
  onnx_mini_error* e = onnx_mini_session_run(s, &in, 1, &out, 1);
  CHECK(e == NULL);
  if (e) {
    fprintf(stderr, "run: %s\n", onnx_mini_error_message(e));
    onnx_mini_error_free(e);
    return;
  }
  CHECK(out.type == 1);
  CHECK(out.rank == 2 && out_shape[0] == kBatch && out_shape[1] == 10);
  for (int r = 0; r < kBatch; ++r) {
    double sum = 0;
    for (int c = 0; c < 10; ++c) sum += y[r * 10 + c];
    /* Ten float probabilities, each rounded once: their sum is 1 within 1e-5. */
    CHECK(fabs(sum - 1.0) < 1e-5);
  }
  CHECK(y[kBatch * 10] == -7.f); /* nothing written past the output */
}

static void check_metadata(onnx_mini_session* s) {
  CHECK(onnx_mini_session_input_count(s) == 1);
  CHECK(onnx_mini_session_output_count(s) == 1);
  onnx_mini_value_info info;
  CHECK(onnx_mini_session_input_info(s, 0, &info) == NULL);
  CHECK(strcmp(info.name, "input") == 0);
  CHECK(info.type == 1 && info.rank == 2);
  CHECK(info.dims[0] < 0 && strcmp(info.symbols[0], "batch") == 0);
  CHECK(info.dims[1] == 784 && strcmp(info.symbols[1], "") == 0);
  onnx_mini_error* e = onnx_mini_session_output_info(s, 1, &info);
  CHECK(e != NULL && onnx_mini_error_code(e) == ONNX_MINI_USAGE);
  onnx_mini_error_free(e);
}

static void check_errors(onnx_mini_session* s) {
  float x[784] = {0};
  int64_t bad_shape[2] = {1, 783};
  onnx_mini_tensor in = {"input", 1, 2, bad_shape, 2, x, 783 * sizeof(float)};
  float y[10];
  int64_t out_shape[2];
  onnx_mini_tensor out = {"probs", 0, 0, out_shape, 2, y, sizeof y};
  onnx_mini_error* e = onnx_mini_session_run(s, &in, 1, &out, 1);
  CHECK(e != NULL && onnx_mini_error_code(e) == ONNX_MINI_BAD_INPUT);
  CHECK(e != NULL && strstr(onnx_mini_error_message(e), "784") != NULL);
  onnx_mini_error_free(e);

  onnx_mini_session* none = NULL;
  e = onnx_mini_session_load_bytes("junk", 4, NULL, &none);
  CHECK(e != NULL && onnx_mini_error_code(e) == ONNX_MINI_INVALID_MODEL && none == NULL);
  onnx_mini_error_free(e);
  e = onnx_mini_session_load(NULL, NULL, &none);
  CHECK(e != NULL && onnx_mini_error_code(e) == ONNX_MINI_USAGE);
  onnx_mini_error_free(e);
}

/* The run limits: scripted_control_flow halves x until its absolute sum is
 * below 4, at most `steps` times; x = inf never gets there, so `steps` alone
 * ends its Loop. Past max_loop_iterations the run is a resource limit; a
 * negative limit is a usage error at load. */
static void check_loop_limit(void) {
  static const char* model = ONNX_MINI_SOURCE_DIR "/models/scripted_control_flow/model.onnx";
  onnx_mini_options* options = onnx_mini_options_create();
  onnx_mini_options_set_threads(options, 1);
  onnx_mini_options_set_max_memory_bytes(options, (int64_t)1 << 30);
  onnx_mini_options_set_max_loop_iterations(options, 10);
  onnx_mini_session* s = NULL;
  onnx_mini_error* e = onnx_mini_session_load(model, options, &s);
  CHECK(e == NULL && s != NULL);
  if (!e) {
    float x[3] = {INFINITY, INFINITY, INFINITY};
    int64_t steps = 1000;
    int64_t x_shape[2] = {1, 3};
    onnx_mini_tensor in[2] = {{"x", 1, 2, x_shape, 2, x, sizeof x}, {"steps", 7, 0, NULL, 0, &steps, sizeof steps}};
    float y[3];
    int64_t y_shape[2];
    onnx_mini_tensor out = {"y", 0, 0, y_shape, 2, y, sizeof y};
    e = onnx_mini_session_run(s, in, 2, &out, 1);
    CHECK(e != NULL && onnx_mini_error_code(e) == ONNX_MINI_RESOURCE_LIMIT);
    CHECK(e != NULL && strstr(onnx_mini_error_message(e), "more than 10 subgraph runs") != NULL);
    onnx_mini_error_free(e);
    onnx_mini_session_free(s);
  }
  onnx_mini_options_set_max_loop_iterations(options, -1);
  s = NULL;
  e = onnx_mini_session_load(model, options, &s);
  CHECK(e != NULL && onnx_mini_error_code(e) == ONNX_MINI_USAGE && s == NULL);
  CHECK(e != NULL && strstr(onnx_mini_error_message(e), "max_loop_iterations") != NULL);
  onnx_mini_error_free(e);
  onnx_mini_options_free(options);
}

int main(void) {
  CHECK(strlen(onnx_mini_version()) >= 5);
  onnx_mini_options* options = onnx_mini_options_create();
  onnx_mini_options_set_threads(options, 1);
  onnx_mini_session* s = NULL;
  onnx_mini_error* e = onnx_mini_session_load(kModel, options, &s);
  CHECK(e == NULL && s != NULL);
  if (e) {
    fprintf(stderr, "load: %s\n", onnx_mini_error_message(e));
    return 1;
  }
  check_metadata(s);
  check_run(s);
  check_errors(s);
  onnx_mini_session_free(s);

  size_t size = 0;
  char* bytes = read_file(kModel, &size);
  CHECK(bytes != NULL);
  e = onnx_mini_session_load_bytes(bytes, size, options, &s);
  free(bytes);
  CHECK(e == NULL);
  if (!e) {
    check_run(s);
    onnx_mini_session_free(s);
  }
  onnx_mini_error_free(e);
  onnx_mini_options_free(options);
  check_loop_limit();
  if (failures == 0) printf("c_api_test: all checks passed\n");
  return failures;
}
