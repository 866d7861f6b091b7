package web

import (
	"fmt"
	"net"
	"strings"

	"github.com/labstack/echo/v4"
)

// ipExtractor is how the client's address is found: the TCP peer's, or
// with trusted proxies the nearest X-Forwarded-For hop that is not one of
// them. Loopback, link-local and private networks are not trusted by
// default (echo's default trusts them), since the door's LAN is private.
func ipExtractor(proxies []string) (echo.IPExtractor, error) {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not an address or CIDR (like 10.0.0.5 or 10.0.0.0/24)", p)
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}
