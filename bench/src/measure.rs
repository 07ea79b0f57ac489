//! Measuring helpers shared by the benchmarks.

use std::time::Duration;

/// Resident and peak memory of a process, in MiB.
pub fn memory(pid: u32) -> (f64, f64) {
    (status_mib(pid, "VmRSS:"), status_mib(pid, "VmHWM:"))
}

/// The process's own memory (heap and stacks), in MiB: its RSS without the pages of its
/// binary and libraries, which every process running the same binary shares.
pub fn anonymous(pid: u32) -> f64 {
    status_mib(pid, "RssAnon:")
}

fn status_mib(pid: u32, field: &str) -> f64 {
    kib_field_mib(&format!("/proc/{pid}/status"), field)
}

/// A `Name:   123 kB` line of a /proc file, in MiB (0 when missing).
fn kib_field_mib(path: &str, field: &str) -> f64 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// A size from the environment (`NESTOR_BENCH_...`), else `default`.
pub fn size(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A field of /proc/meminfo (`MemTotal:`, `MemAvailable:`), in MiB.
pub fn meminfo_mib(field: &str) -> f64 {
    kib_field_mib("/proc/meminfo", field)
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// CPU time (user and system) a process has used so far, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat; 100 ticks a second on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds of groups of processes, for telling where a phase's work went.
#[derive(Debug, Clone, Default)]
pub struct CpuGroups(Vec<(String, Vec<u32>)>);

impl CpuGroups {
    pub fn add(&mut self, name: &str, pids: Vec<u32>) {
        self.0.push((name.to_string(), pids));
    }

    /// Adds `pid` to group `name`, made if there is none (a process that replaced another).
    pub fn add_to(&mut self, name: &str, pid: u32) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, pids)) => pids.push(pid),
            None => self.add(name, vec![pid]),
        }
    }

    /// Each group's CPU seconds so far.
    pub fn sample(&self) -> Vec<f64> {
        self.0.iter().map(|(_, pids)| pids.iter().map(|p| cpu_seconds(*p)).sum()).collect()
    }

    /// A markdown table of what each group used between samples, one column per phase.
    pub fn table(&self, phases: &[(&str, &[f64], &[f64])]) -> String {
        let mut table = "| process | ".to_string();
        table += &phases.iter().map(|(name, _, _)| format!("{name} (CPU s)")).collect::<Vec<_>>().join(" | ");
        table += " |\n|---|";
        table += &"---|".repeat(phases.len());
        table += "\n";
        let mut totals = vec![0.0; phases.len()];
        for (i, (name, _)) in self.0.iter().enumerate() {
            // A group added after a phase (a process started later) used nothing in it.
            let at = |sample: &[f64]| sample.get(i).copied().unwrap_or(0.0);
            let used: Vec<f64> = phases.iter().map(|(_, from, to)| (at(to) - at(from)).max(0.0)).collect();
            for (t, u) in totals.iter_mut().zip(&used) {
                *t += u;
            }
            let cells: Vec<String> = used.iter().map(|u| format!("{u:.1}")).collect();
            table += &format!("| {name} | {} |\n", cells.join(" | "));
        }
        let cells: Vec<String> = totals.iter().map(|u| format!("**{u:.1}**")).collect();
        table += &format!("| all | {} |\n", cells.join(" | "));
        table
    }
}
