//! Authentication: x509 client certificates (CN is the user, O the groups) and static
//! bearer tokens from kube-apiserver's token CSV file. Requests with no credentials run as
//! `system:anonymous` unless `--anonymous-auth=false`.

use std::collections::HashMap;
use std::path::Path;

use x509_parser::prelude::{FromDer, X509Certificate};

/// Who a request runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl User {
    pub fn anonymous() -> Self {
        User { name: "system:anonymous".into(), uid: String::new(), groups: vec!["system:unauthenticated".into()] }
    }

    pub fn is_anonymous(&self) -> bool {
        self.name == "system:anonymous"
    }

    /// Authenticated users get `system:authenticated`, as kube adds it.
    fn authenticated(name: String, uid: String, mut groups: Vec<String>) -> Self {
        if !groups.iter().any(|g| g == "system:authenticated") {
            groups.push("system:authenticated".into());
        }
        User { name, uid, groups }
    }
}

/// The outcome of authenticating one request.
#[derive(Debug)]
pub enum Authn {
    User(User),
    /// A bearer token that is no static token but may be a service account token (a JWT):
    /// the caller checks it against its issuer.
    Token(String),
    /// Credentials were given but are wrong: 401.
    Rejected,
}

/// Holds the static tokens and whether anonymous requests are allowed.
#[derive(Debug, Default)]
pub struct Authenticator {
    tokens: HashMap<String, User>,
    anonymous: bool,
}

/// Parses one CSV line honouring double quotes (the groups column is quoted).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

impl Authenticator {
    /// Loads `--token-auth-file` (token,user,uid[,"group1,group2"]).
    pub fn new(token_file: Option<&Path>, anonymous: bool) -> anyhow::Result<Self> {
        let mut tokens = HashMap::new();
        if let Some(path) = token_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("failed to read token file {}: {e}", path.display()))?;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let f = csv_fields(line);
                if f.len() < 3 || f[0].is_empty() || f[1].is_empty() {
                    anyhow::bail!("token file {} line {}: want token,user,uid[,groups]", path.display(), n + 1);
                }
                let groups = f
                    .get(3)
                    .map(|g| g.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                    .unwrap_or_default();
                tokens.insert(f[0].clone(), User::authenticated(f[1].clone(), f[2].clone(), groups));
            }
        }
        Ok(Authenticator { tokens, anonymous })
    }

    /// The user of a static token (`--token-auth-file`).
    pub fn static_user(&self, token: &str) -> Option<User> {
        self.tokens.get(token).cloned()
    }

    /// Authenticates from the peer certificate identity and the Authorization header.
    pub fn authenticate(&self, cert_user: Option<&User>, authorization: Option<&str>) -> Authn {
        if let Some(user) = cert_user {
            return Authn::User(user.clone());
        }
        if let Some(header) = authorization {
            let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).map(str::trim);
            return match token {
                Some(t) => match self.static_user(t) {
                    Some(user) => Authn::User(user),
                    None if t.matches('.').count() == 2 => Authn::Token(t.to_string()),
                    None => Authn::Rejected,
                },
                None => Authn::Rejected,
            };
        }
        if self.anonymous {
            Authn::User(User::anonymous())
        } else {
            Authn::Rejected
        }
    }
}

/// The user of a verified client certificate: CN is the name, each O a group.
pub fn user_from_certificate(der: &[u8]) -> Option<User> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let subject = cert.subject();
    let name = subject.iter_common_name().next()?.as_str().ok()?.to_string();
    let groups = subject.iter_organization().filter_map(|o| o.as_str().ok().map(str::to_string)).collect();
    Some(User::authenticated(name, String::new(), groups))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_with_quoted_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.csv");
        std::fs::write(&path, "# comment\nsecret1,alice,1001,\"dev,ops\"\nsecret2,bob,1002\n").unwrap();
        let a = Authenticator::new(Some(&path), true).unwrap();
        match a.authenticate(None, Some("Bearer secret1")) {
            Authn::User(u) => {
                assert_eq!(u.name, "alice");
                assert_eq!(u.groups, vec!["dev", "ops", "system:authenticated"]);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(a.authenticate(None, Some("Bearer nope")), Authn::Rejected));
        assert!(matches!(a.authenticate(None, None), Authn::User(u) if u.is_anonymous()));
        let strict = Authenticator::new(Some(&path), false).unwrap();
        assert!(matches!(strict.authenticate(None, None), Authn::Rejected));
    }
}
