//! Server-side Table printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the column definitions and row cells kube-apiserver v1.32 serves to `kubectl get`.

pub mod default;
pub mod jsonpath;
pub mod printers;
