//! Pod IP allocation from each node's CIDR, as the host-local IPAM plugin does on a real node:
//! the network, gateway (`.1`) and broadcast addresses are never handed out, and allocation
//! walks round-robin from the last address given so a freed IP is not reused at once.
//!
//! Nothing is persisted: after a restart the pods' own `status.podIP` are claimed back before
//! any new address is given out, so the API server is the only record.

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: Ipv4Addr,
    prefix: u8,
}

/// Why a text is not an IPv4 CIDR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid IPv4 CIDR {0:?}")]
pub struct ParseCidrError(pub String);

impl FromStr for Cidr {
    type Err = ParseCidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseCidrError(s.to_string());
        let (addr, prefix) = s.split_once('/').ok_or_else(err)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| err())?;
        let prefix: u8 = prefix.parse().map_err(|_| err())?;
        if prefix > 32 {
            return Err(err());
        }
        Ok(Cidr::new(addr, prefix))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Cidr {
    /// The network of `addr` with `prefix` bits (host bits cleared).
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Self {
        let mask = Self::mask(prefix);
        Cidr { network: Ipv4Addr::from(u32::from(addr) & mask), prefix }
    }

    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        }
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The number of addresses in the network.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// The `index`-th sub-network of length `prefix`, if it lies inside this one.
    pub fn subnet(&self, index: u32, prefix: u8) -> Option<Cidr> {
        if prefix < self.prefix || prefix > 32 {
            return None;
        }
        let count = 1u64 << (prefix - self.prefix);
        if u64::from(index) >= count {
            return None;
        }
        let step = 1u64 << (32 - u32::from(prefix));
        let start = u64::from(u32::from(self.network)) + u64::from(index) * step;
        Some(Cidr { network: Ipv4Addr::from(u32::try_from(start).ok()?), prefix })
    }

    /// The address at `offset` from the network address, if inside.
    pub fn host(&self, offset: u64) -> Option<Ipv4Addr> {
        (offset < self.size()).then(|| Ipv4Addr::from(u32::from(self.network).wrapping_add(offset as u32)))
    }

    /// Whether `ip` lies inside the network.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & Self::mask(self.prefix) == u32::from(self.network)
    }

    fn offset(&self, ip: Ipv4Addr) -> u64 {
        u64::from(u32::from(ip).wrapping_sub(u32::from(self.network)))
    }
}

/// A second pod claims an IP another pod holds (state written before a bug or by hand).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ip} is held by pod {holder}")]
pub struct IpConflict {
    pub ip: Ipv4Addr,
    pub holder: String,
}

/// The pod IPs of one node, by pod UID.
#[derive(Debug)]
pub struct Pool {
    cidr: Cidr,
    by_pod: HashMap<String, Ipv4Addr>,
    by_ip: HashMap<Ipv4Addr, String>,
    /// Index (offset - 2) where the round-robin search starts.
    next: u64,
}

impl Pool {
    /// An empty pool over `cidr`.
    pub fn new(cidr: Cidr) -> Self {
        Pool { cidr, by_pod: HashMap::new(), by_ip: HashMap::new(), next: 0 }
    }

    /// The network this pool hands out.
    pub fn cidr(&self) -> Cidr {
        self.cidr
    }

    /// Records that pod `uid` holds `ip` (from its status). Addresses outside the CIDR are
    /// not ours to track and are accepted as they are.
    pub fn claim(&mut self, uid: &str, ip: Ipv4Addr) -> Result<(), IpConflict> {
        if !self.cidr.contains(ip) {
            return Ok(());
        }
        if let Some(holder) = self.by_ip.get(&ip) {
            if holder != uid {
                return Err(IpConflict { ip, holder: holder.clone() });
            }
            return Ok(());
        }
        if let Some(old) = self.by_pod.insert(uid.to_string(), ip) {
            self.by_ip.remove(&old);
        }
        self.by_ip.insert(ip, uid.to_string());
        Ok(())
    }

    /// The IP of pod `uid`: the one it holds, or the next free one. None when the pool is full.
    pub fn allocate(&mut self, uid: &str) -> Option<Ipv4Addr> {
        if let Some(ip) = self.by_pod.get(uid) {
            return Some(*ip);
        }
        let size = self.cidr.size();
        // Usable offsets: 2 ..= size-2 (network, gateway and broadcast excluded).
        if size < 4 {
            return None;
        }
        let usable = size - 3;
        for step in 0..usable {
            let index = (self.next + step) % usable;
            let ip = self.cidr.host(index + 2)?;
            if !self.by_ip.contains_key(&ip) {
                self.next = index + 1;
                self.by_pod.insert(uid.to_string(), ip);
                self.by_ip.insert(ip, uid.to_string());
                return Some(ip);
            }
        }
        None
    }

    /// Frees the IP of pod `uid`, if it holds one.
    pub fn release(&mut self, uid: &str) -> Option<Ipv4Addr> {
        let ip = self.by_pod.remove(uid)?;
        self.by_ip.remove(&ip);
        Some(ip)
    }

    /// How many IPs are held.
    pub fn len(&self) -> usize {
        self.by_pod.len()
    }

    /// Whether no IP is held.
    pub fn is_empty(&self) -> bool {
        self.by_pod.is_empty()
    }

    /// Whether `ip` is a usable pod address of this pool.
    pub fn is_usable(&self, ip: Ipv4Addr) -> bool {
        let off = self.cidr.offset(ip);
        self.cidr.contains(ip) && off >= 2 && off + 1 < self.cidr.size()
    }
}

/// The pools of every simulated node.
#[derive(Debug, Default)]
pub struct Ipam {
    pools: HashMap<String, Pool>,
}

impl Ipam {
    /// Adds or re-points the pool of `node` (its `spec.podCIDR` may differ from the config
    /// when an older node is adopted). Held addresses are kept.
    pub fn set_node(&mut self, node: &str, cidr: Cidr) {
        match self.pools.get_mut(node) {
            Some(p) if p.cidr == cidr => {}
            Some(p) => p.cidr = cidr,
            None => {
                self.pools.insert(node.to_string(), Pool::new(cidr));
            }
        }
    }

    /// The pool of `node`.
    pub fn pool(&mut self, node: &str) -> Option<&mut Pool> {
        self.pools.get_mut(node)
    }

    /// Frees the IP of pod `uid` on whichever node holds it.
    pub fn release(&mut self, uid: &str) -> Option<Ipv4Addr> {
        self.pools.values_mut().find_map(|p| p.release(uid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_parses_and_splits() {
        let c = cidr("10.244.0.0/16");
        assert_eq!(c.to_string(), "10.244.0.0/16");
        assert_eq!(c.subnet(3, 24), Some(cidr("10.244.3.0/24")));
        assert_eq!(c.subnet(255, 24), Some(cidr("10.244.255.0/24")));
        assert_eq!(c.subnet(256, 24), None);
        assert_eq!(cidr("10.244.7.9/24").to_string(), "10.244.7.0/24");
        assert!(cidr("10.244.3.0/24").contains("10.244.3.77".parse().unwrap()));
        assert!(!cidr("10.244.3.0/24").contains("10.244.4.1".parse().unwrap()));
        assert!("10.0.0.0".parse::<Cidr>().is_err());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("x/8".parse::<Cidr>().is_err());
    }

    #[test]
    fn allocates_distinct_usable_ips_round_robin() {
        let mut p = Pool::new(cidr("10.244.1.0/24"));
        let a = p.allocate("a").unwrap();
        let b = p.allocate("b").unwrap();
        assert_eq!(a, "10.244.1.2".parse::<Ipv4Addr>().unwrap());
        assert_eq!(b, "10.244.1.3".parse::<Ipv4Addr>().unwrap());
        assert_eq!(p.allocate("a"), Some(a), "a pod keeps its IP");
        assert_eq!(p.release("a"), Some(a));
        let c = p.allocate("c").unwrap();
        assert_ne!(c, a, "a freed IP is not reused at once");
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn fills_up_and_never_duplicates() {
        let mut p = Pool::new(cidr("10.0.0.0/28")); // 16 addresses, 13 usable
        let mut seen = std::collections::HashSet::new();
        for i in 0..13 {
            let ip = p.allocate(&format!("p{i}")).unwrap();
            assert!(p.is_usable(ip), "{ip}");
            assert!(seen.insert(ip));
        }
        assert_eq!(p.allocate("one-more"), None);
        p.release("p4");
        assert!(p.allocate("one-more").is_some());
    }

    #[test]
    fn claims_come_before_allocation() {
        let mut p = Pool::new(cidr("10.244.0.0/24"));
        p.claim("old", "10.244.0.2".parse().unwrap()).unwrap();
        p.claim("old2", "10.244.0.3".parse().unwrap()).unwrap();
        assert_eq!(p.allocate("new"), Some("10.244.0.4".parse().unwrap()));
        let err = p.claim("other", "10.244.0.2".parse().unwrap()).unwrap_err();
        assert_eq!(err.holder, "old");
        assert!(p.claim("outside", "192.168.0.1".parse().unwrap()).is_ok());
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn ipam_releases_on_any_node() {
        let mut ipam = Ipam::default();
        ipam.set_node("n0", cidr("10.244.0.0/24"));
        ipam.set_node("n1", cidr("10.244.1.0/24"));
        let ip = ipam.pool("n1").unwrap().allocate("u").unwrap();
        assert_eq!(ipam.release("u"), Some(ip));
        assert_eq!(ipam.release("u"), None);
    }
}
