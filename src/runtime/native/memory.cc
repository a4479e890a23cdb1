// Gives an idle isolate's garbage back to the system: V8's low-memory collection (every
// generation collected and compacted, the young generation shrunk, freed pages unmapped), and
// on request glibc's malloc_trim for the C heap. Context-aware, so media worker threads load it too.
#include <malloc.h>
#include <node.h>

namespace {

void Release(const v8::FunctionCallbackInfo<v8::Value>& args) {
  v8::Isolate* isolate = args.GetIsolate();
  isolate->LowMemoryNotification();
  if (args.Length() > 0 && args[0]->IsTrue()) malloc_trim(0);
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  v8::Isolate* isolate = context->GetIsolate();
  exports->Set(context, v8::String::NewFromUtf8Literal(isolate, "release"),
               v8::FunctionTemplate::New(isolate, Release)->GetFunction(context).ToLocalChecked()).Check();
}
