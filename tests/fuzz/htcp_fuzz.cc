// HTCP CLR decoder (purge/htcp_packet.h): datagrams come from the network, unauthenticated.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "purge/htcp_packet.h"
#include "purge/purge_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view packet(reinterpret_cast<const char*>(data), size);
  const ec::purge::HtcpDecodeResult decoded = ec::purge::decodeHtcpClr(packet);
  if (decoded.ok) {
    // Every view lies inside the packet; the URL parser takes whatever the packet holds.
    if (decoded.clr.uri.data() < packet.data() ||
        decoded.clr.uri.data() + decoded.clr.uri.size() > packet.data() + packet.size()) {
      __builtin_trap();
    }
    (void)ec::purge::parsePurgeUrl(decoded.clr.uri);
  }
  return 0;
}
