//! Requests Broadsheet makes to addresses that users chose (webhook
//! deliveries today; the cross-post inbox's feeds and pages later), and the
//! guard that keeps them off the server's own network (SSRF).
//!
//! One rule, [`is_public_unicast`], decides whether an address may be
//! connected to. It is applied at connect time to every address a name
//! resolves to ([`GuardedResolver`]), to every address literal before a
//! request is sent ([`Client::request`]) and to every hop of a redirect
//! ([`redirect_policy`]), so neither DNS rebinding, a changed record nor a
//! redirect can lead a request to a private address. Registration checks
//! ([`check_url`]) use the same rule to refuse a URL early with a clear
//! message. No axum or async-graphql here: services and the CLI use it.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use url::{Host, Url};

/// Longest URL accepted for an outbound request.
pub const MAX_URL_CHARS: usize = 2048;

/// How long a registration check waits for DNS before accepting a name it
/// could not resolve (it is checked again at every connection).
const CHECK_RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------- the rule

/// Whether `ip` is a public unicast address: one that is globally routable
/// and names a single host on the internet. Everything in IANA's IPv4 and
/// IPv6 special-purpose address registries is refused, even the few blocks
/// marked globally reachable (anycast services such as AS112, AMT, PCP and
/// TURN, which no receiver lives at); IPv6 must be in 2000::/3, the only
/// block IANA allocates as global unicast. Addresses that embed an IPv4
/// address a router or the kernel would translate to (IPv4-mapped, NAT64's
/// 64:ff9b::/96, 6to4) are judged by the embedded address.
pub fn is_public_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    (u128::from(ip) & mask) == (u128::from(Ipv6Addr::from(net)) & mask)
}

/// IPv4 blocks that are not public unicast: the IANA IPv4 Special-Purpose
/// Address Registry (RFC 6890 and later), multicast and the reserved block.
const NOT_PUBLIC_V4: [([u8; 4], u32); 19] = [
    ([0, 0, 0, 0], 8),          // "this network", including 0.0.0.0 (unspecified)
    ([10, 0, 0, 0], 8),         // private (RFC 1918)
    ([100, 64, 0, 0], 10),      // shared address space, carrier-grade NAT (RFC 6598)
    ([127, 0, 0, 0], 8),        // loopback
    ([169, 254, 0, 0], 16),     // link-local (cloud metadata services live here)
    ([172, 16, 0, 0], 12),      // private
    ([192, 0, 0, 0], 24),       // IETF protocol assignments (DS-Lite, PCP, TURN, NAT64 discovery)
    ([192, 0, 2, 0], 24),       // documentation, TEST-NET-1
    ([192, 31, 196, 0], 24),    // AS112-v4
    ([192, 52, 193, 0], 24),    // AMT
    ([192, 88, 99, 0], 24),     // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16),     // private
    ([192, 175, 48, 0], 24),    // direct delegation AS112
    ([198, 18, 0, 0], 15),      // benchmarking (RFC 2544)
    ([198, 51, 100, 0], 24),    // documentation, TEST-NET-2
    ([203, 0, 113, 0], 24),     // documentation, TEST-NET-3
    ([224, 0, 0, 0], 4),        // multicast
    ([240, 0, 0, 0], 4),        // reserved, including 255.255.255.255 (broadcast)
    ([255, 255, 255, 255], 32), // broadcast (inside 240/4; named for the reader)
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !NOT_PUBLIC_V4
        .iter()
        .any(|&(net, prefix)| in_v4(ip, net, prefix))
}

/// IPv6 blocks inside 2000::/3 that are not public unicast (everything
/// outside 2000::/3 is refused anyway: loopback, unspecified, IPv4-compatible
/// and IPv4-translated forms, discard, local-use NAT64 64:ff9b:1::/48,
/// unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10,
/// multicast ff00::/8).
const NOT_PUBLIC_V6: [([u16; 8], u32); 4] = [
    // IETF protocol assignments: Teredo 2001::/32, PCP/TURN/DNS-SD anycast,
    // benchmarking 2001:2::/48, AMT 2001:3::/32, AS112 2001:4:112::/48,
    // ORCHID 2001:10::/28, ORCHIDv2 2001:20::/28, drone DETs 2001:30::/28.
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
    ([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48), // direct delegation AS112
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),     // documentation (RFC 9637)
];

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    // IPv4-mapped ::ffff:a.b.c.d: a dual-stack socket connects to a.b.c.d.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): the gateway connects
    // to the last 32 bits (a DNS64 resolver hands these out on IPv6-only
    // networks, so public ones stay reachable).
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return is_public_v4(Ipv4Addr::from(bits as u32));
    }
    // 6to4 2002::/16 (RFC 3056): bits 16..48 are the IPv4 address the
    // packet is tunnelled to.
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        return is_public_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    in_v6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3)
        && !NOT_PUBLIC_V6
            .iter()
            .any(|&(net, prefix)| in_v6(ip, net, prefix))
}

// ---------------------------------------------------------------- URLs

/// Why an outbound URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("must be at most {MAX_URL_CHARS} characters")]
    TooLong,
    #[error("must be an absolute http(s) URL")]
    NotAUrl,
    #[error("must be an http or https URL")]
    Scheme,
    #[error("must not contain a user name or password")]
    Credentials,
    #[error("must name a host")]
    NoHost,
    /// The host is, or resolves to, an address that is not public unicast.
    #[error("points at a private, loopback, link-local or otherwise non-public address")]
    NotPublic,
}

/// Parse `raw` as an outbound URL: http(s), no credentials, a host; an
/// address literal (in any spelling the URL parser accepts: `127.1`,
/// `2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`, …, all normalised by the
/// parser into one address) must be public unless `allow_private`. Names are
/// not resolved here: the resolver judges them at connect time.
pub fn parse_url(raw: &str, allow_private: bool) -> Result<Url, Refused> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(Refused::TooLong);
    }
    let url = Url::parse(raw).map_err(|_| Refused::NotAUrl)?;
    check_parsed(&url, allow_private)?;
    Ok(url)
}

/// [`parse_url`] for an already parsed URL (a redirect's target).
fn check_parsed(url: &Url, allow_private: bool) -> Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refused::Credentials);
    }
    let Some(host) = url.host() else {
        return Err(Refused::NoHost);
    };
    if allow_private {
        return Ok(());
    }
    let literal = match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            // Never sent to DNS: RFC 6761 reserves them for this host.
            if name == "localhost" || name.ends_with(".localhost") {
                return Err(Refused::NotPublic);
            }
            None
        }
    };
    match literal {
        Some(ip) if !is_public_unicast(ip) => Err(Refused::NotPublic),
        _ => Ok(()),
    }
}

/// The registration check: [`parse_url`], and a name is resolved too and
/// refused when any of its addresses is not public. A name that does not
/// resolve (yet) is accepted: every connection is judged again.
pub async fn check_url(raw: &str, allow_private: bool) -> Result<Url, Refused> {
    let url = parse_url(raw, allow_private)?;
    if allow_private {
        return Ok(url);
    }
    if let Some(Host::Domain(name)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(80);
        let lookup = tokio::net::lookup_host((name, port));
        if let Ok(Ok(addrs)) = tokio::time::timeout(CHECK_RESOLVE_TIMEOUT, lookup).await {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.iter().any(|a| !is_public_unicast(a.ip())) {
                return Err(Refused::NotPublic);
            }
        }
    }
    Ok(url)
}

// ---------------------------------------------------------------- the client

/// reqwest's resolver for guarded clients: only the public addresses of a
/// name are handed to the connector, so a record that changed after a check
/// (DNS rebinding) cannot lead a connection to a private address.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl GuardedResolver {
    /// The addresses of `host` that may be connected to.
    pub async fn resolve_host(&self, host: &str) -> std::io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = lookup(host)
            .await?
            .into_iter()
            .filter(|a| self.allow_private || is_public_unicast(a.ip()))
            .collect();
        if addrs.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("{host} resolves only to private, loopback or other non-public addresses"),
            ));
        }
        Ok(addrs)
    }
}

/// The system resolver (unit tests add names of their own: no test may
/// depend on, or send anything to, the outside world).
async fn lookup(host: &str) -> std::io::Result<Vec<SocketAddr>> {
    #[cfg(test)]
    if let Some(addrs) = tests::fake_dns(host) {
        return Ok(addrs);
    }
    Ok(tokio::net::lookup_host((host, 0)).await?.collect())
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = *self;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = guard.resolve_host(&host).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether a redirect from `hops` earlier requests to `next` may be
/// followed: at most `max` hops, and the target passes the same checks as
/// the first URL (its name is judged by the resolver when connecting).
pub fn redirect_allowed(
    next: &Url,
    hops: usize,
    max: usize,
    allow_private: bool,
) -> Result<(), String> {
    if hops >= max {
        return Err(format!("more than {max} redirects"));
    }
    check_parsed(next, allow_private).map_err(|e| format!("redirect to a URL that {e}"))
}

/// A redirect policy that re-checks every hop with [`redirect_allowed`].
pub fn redirect_policy(max: usize, allow_private: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        match redirect_allowed(attempt.url(), attempt.previous().len(), max, allow_private) {
            Ok(()) => attempt.follow(),
            Err(why) => attempt.error(why),
        }
    })
}

/// What a guarded client is for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Connect to non-public addresses too (a setting such as
    /// `BROADSHEET_WEBHOOK_ALLOW_PRIVATE`, for receivers on the same network).
    pub allow_private: bool,
    /// Connect timeout and whole-request timeout (answer body included).
    pub timeout: Duration,
    /// Follow at most this many redirects, each re-checked; `None` follows none.
    pub redirects: Option<usize>,
    pub user_agent: String,
}

/// An HTTP client whose every connection passes the guard. Send requests
/// through [`Client::request`], which checks address literals (reqwest
/// connects to those without asking the resolver).
#[derive(Debug, Clone)]
pub struct Client {
    inner: reqwest::Client,
    allow_private: bool,
}

impl Client {
    pub fn new(options: Options) -> Result<Self, reqwest::Error> {
        let redirect = match options.redirects {
            Some(max) => redirect_policy(max, options.allow_private),
            None => reqwest::redirect::Policy::none(),
        };
        let inner = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .redirect(redirect)
            // A proxy from the environment would connect for us, unguarded.
            .no_proxy()
            .user_agent(options.user_agent)
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: options.allow_private,
            }))
            .build()?;
        Ok(Client {
            inner,
            allow_private: options.allow_private,
        })
    }

    /// A request to `url`, refused before any connection when the URL is
    /// not an acceptable outbound URL or its host is a non-public literal.
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, Refused> {
        let url = parse_url(url, self.allow_private)?;
        Ok(self.inner.request(method, url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn special_purpose_addresses_are_not_public() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.254",
            "192.0.0.1",
            "192.0.0.9",
            "192.0.0.170",
            "192.0.2.1",
            "192.31.196.1",
            "192.52.193.1",
            "192.88.99.1",
            "192.168.0.1",
            "192.175.48.1",
            "198.18.0.1",
            "198.19.255.254",
            "198.51.100.1",
            "203.0.113.5",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:0:127.0.0.1",
            "::ffff:0:8.8.8.8",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::8.8.8.8",
            "100::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:1::1",
            "2001:2::1",
            "2001:3::1",
            "2001:4:112::1",
            "2001:10::1",
            "2001:20::1",
            "2001:db8::1",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "2002:c0a8:101::1",
            "2620:4f:8000::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd00::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
        ] {
            assert!(!is_public_unicast(ip(s)), "{s} was judged public");
        }
    }

    #[test]
    fn public_unicast_addresses_are_allowed() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.0.43.10",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.254",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:200::1",
            "2001:4860:4860::8888",
            "2606:4700::1111",
            "2a00:1450:4001::1",
        ] {
            assert!(is_public_unicast(ip(s)), "{s} was refused");
        }
    }

    /// Every spelling of an address the URL parser accepts ends as one
    /// address, judged after parsing.
    #[test]
    fn address_literals_are_judged_in_every_spelling() {
        for raw in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://127.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://017700000001/",
            "http://0x7f.0.0.0x1/",
            "http://127.0.0.1./",
            "http://%31%32%37.0.0.1/",
            "http://\u{ff11}\u{ff12}\u{ff17}.0.0.1/",
            "http://0/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:127.0.0.1]/",
            "http://[::127.0.0.1]/",
            "http://[::ffff:0:127.0.0.1]/",
            "http://[64:ff9b::127.0.0.1]/",
            "http://[2002:7f00:1::]/",
            "http://LOCALHOST/",
            "http://localhost./",
            "http://a.b.localhost/",
        ] {
            assert_eq!(parse_url(raw, false), Err(Refused::NotPublic), "{raw}");
            assert!(parse_url(raw, true).is_ok(), "{raw} with private allowed");
        }
        assert!(parse_url("https://93.184.215.14/hook", false).is_ok());
        assert!(parse_url("https://hooks.example.org/x", false).is_ok());
        assert_eq!(parse_url("ftp://example.org/", false), Err(Refused::Scheme));
        assert_eq!(
            parse_url("https://u:p@example.org/", false),
            Err(Refused::Credentials)
        );
        assert_eq!(parse_url("not a url", false), Err(Refused::NotAUrl));
    }

    #[test]
    fn redirects_are_checked_hop_by_hop() {
        let to = |s: &str| Url::parse(s).unwrap();
        assert!(redirect_allowed(&to("https://example.org/next"), 0, 5, false).is_ok());
        assert!(redirect_allowed(&to("http://169.254.169.254/"), 0, 5, false).is_err());
        assert!(redirect_allowed(&to("http://[::ffff:127.0.0.1]/"), 1, 5, false).is_err());
        assert!(redirect_allowed(&to("file:///etc/passwd"), 0, 5, false).is_err());
        assert!(redirect_allowed(&to("https://example.org/next"), 5, 5, false).is_err());
        assert!(redirect_allowed(&to("http://127.0.0.1/"), 0, 5, true).is_ok());
    }

    /// Names only the unit tests know: one that "rebinds" to loopback and
    /// one with a public and a loopback address.
    pub(super) fn fake_dns(host: &str) -> Option<Vec<SocketAddr>> {
        let port = REBOUND_PORT.load(std::sync::atomic::Ordering::Relaxed);
        match host {
            "rebound.test" => Some(vec![SocketAddr::from(([127, 0, 0, 1], port))]),
            "mixed.test" => Some(vec![
                SocketAddr::from(([127, 0, 0, 1], port)),
                SocketAddr::from(([93, 184, 215, 14], port)),
            ]),
            _ => None,
        }
    }

    static REBOUND_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

    /// DNS rebinding: a name that passed a check and now resolves to
    /// loopback is refused by the client when connecting, before any
    /// connection is opened (the listener sees none).
    #[tokio::test]
    async fn a_name_that_turns_to_loopback_is_refused_when_connecting() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        REBOUND_PORT.store(port, std::sync::atomic::Ordering::Relaxed);
        let client = Client::new(Options {
            allow_private: false,
            timeout: Duration::from_secs(5),
            redirects: Some(3),
            user_agent: "test".into(),
        })
        .unwrap();
        let request = client
            .request(
                reqwest::Method::GET,
                &format!("http://rebound.test:{port}/"),
            )
            .expect("a name passes the literal check");
        let err = request.send().await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "the client connected to loopback");
        // A literal never reaches the resolver: refused before a request exists.
        for url in [
            format!("http://127.0.0.1:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            format!("http://localhost:{port}/"),
        ] {
            assert_eq!(
                client.request(reqwest::Method::GET, &url).unwrap_err(),
                Refused::NotPublic,
                "{url}"
            );
        }
    }

    /// The resolver drops every non-public address of a name, so a name that
    /// resolves only to loopback is refused before any connection.
    #[tokio::test]
    async fn the_resolver_refuses_names_of_private_addresses() {
        let guard = GuardedResolver {
            allow_private: false,
        };
        let err = guard.resolve_host("localhost").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
        let open = GuardedResolver {
            allow_private: true,
        };
        assert!(!open.resolve_host("localhost").await.unwrap().is_empty());
        // Of a name with public and private addresses, only the public ones.
        let mixed = guard.resolve_host("mixed.test").await.unwrap();
        assert!(mixed.iter().all(|a| is_public_unicast(a.ip())), "{mixed:?}");
    }
}
