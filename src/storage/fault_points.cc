#include "storage/fault_points.h"

#include <cerrno>
#include <cstdint>

#ifdef EC_HAVE_FIU
#define FIU_ENABLE 1
#include <fiu-control.h>
#include <fiu.h>
#endif

namespace ec::storage {

bool faultFires(const char* name) {
#ifdef EC_HAVE_FIU
  if (fiu_fail(name)) {
    void* info = fiu_failinfo();
    errno = info ? static_cast<int>(reinterpret_cast<intptr_t>(info)) : EIO;
    return true;
  }
#else
  (void)name;
#endif
  return false;
}

bool enableFaultControl(const std::string& fifo_base, std::string* error) {
#ifdef EC_HAVE_FIU
  if (fiu_init(0) != 0 || fiu_rc_fifo(fifo_base.c_str()) != 0) {
    *error = "libfiu: cannot open the control fifo " + fifo_base;
    return false;
  }
  return true;
#else
  (void)fifo_base;
  *error = "built without libfiu";
  return false;
#endif
}

}  // namespace ec::storage
