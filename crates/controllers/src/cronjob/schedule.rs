//! Schedules as kube reads them (robfig/cron's `ParseStandard`: five fields, `@hourly` and the
//! other descriptors, `@every <duration>`, a legacy `TZ=`/`CRON_TZ=` prefix) in the CronJob's
//! time zone, and kube's arithmetic over them: the most recent missed start
//! (`mostRecentScheduleTime`) and when to look again (`nextScheduleTimeDuration`).

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// kube's `nextScheduleDelta`: a requeue lands this long after the scheduled time, so that
/// a clock a hair behind does not find the time still ahead.
pub const NEXT_SCHEDULE_DELTA: Duration = Duration::from_millis(100);

/// More missed starts than this are not all listed (kube's guard against a wrong clock).
const MANY_MISSED: i64 = 100;

#[derive(Debug, Clone)]
enum Kind {
    Cron(Box<Cron>),
    /// `@every <duration>`: whole seconds, at least one.
    Every(chrono::Duration),
}

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    kind: Kind,
    zone: Tz,
}

/// How many starts were missed since the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    None,
    Few,
    Many,
}

/// Go's `time.ParseDuration` for the units robfig accepts; whole nanoseconds.
fn parse_go_duration(text: &str) -> Option<chrono::Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(chrono::Duration::zero());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest.bytes().take_while(|c| c.is_ascii_digit() || *c == b'.').count();
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len =
            rest.char_indices().find(|(_, c)| c.is_ascii_digit() || *c == '.').map_or(rest.len(), |(i, _)| i);
        let nanos_per = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * nanos_per;
    }
    // Durations beyond i64 nanoseconds are not schedules anyone means.
    #[allow(clippy::cast_possible_truncation)]
    let nanos = total as i64;
    Some(chrono::Duration::nanoseconds(nanos))
}

/// The five-field pattern a descriptor stands for.
fn descriptor(spec: &str) -> Option<&'static str> {
    Some(match spec {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return None,
    })
}

impl Schedule {
    /// Parses `spec` in `zone` (a `TZ=` prefix in the spec wins, as in robfig).
    pub fn parse(spec: &str, zone: Tz) -> Result<Schedule, String> {
        let mut spec = spec.trim();
        let mut zone = zone;
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            let eq = spec.find('=').unwrap_or(0);
            let Some(space) = spec.find(' ') else { return Err(format!("provided bad location {}", &spec[eq + 1..])) };
            let name = &spec[eq + 1..space];
            zone = name.parse().map_err(|_| format!("provided bad location {name}: unknown time zone {name}"))?;
            spec = spec[space..].trim();
        }
        if spec.is_empty() {
            return Err("empty spec string".into());
        }
        if let Some(every) = spec.strip_prefix("@every ") {
            let d = parse_go_duration(every)
                .ok_or_else(|| format!("failed to parse duration {spec}: time: invalid duration {every:?}"))?;
            // robfig: at least a second, truncated to whole seconds.
            let secs = d.num_seconds().max(1);
            return Ok(Schedule { kind: Kind::Every(chrono::Duration::seconds(secs)), zone });
        }
        let pattern = if spec.starts_with('@') {
            descriptor(spec).ok_or_else(|| format!("unrecognized descriptor: {spec}"))?
        } else {
            let fields = spec.split_whitespace().count();
            if fields != 5 {
                return Err(format!("expected exactly 5 fields, found {fields}: [{spec}]"));
            }
            spec
        };
        let cron = Cron::new(pattern).parse().map_err(|e| e.to_string())?;
        Ok(Schedule { kind: Kind::Cron(Box::new(cron)), zone })
    }

    /// robfig's `Next`: the first activation strictly after `t` (whole seconds), if any.
    pub fn next(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let t = t.trunc_subsecs(0);
        match &self.kind {
            Kind::Every(every) => Some(t + *every),
            Kind::Cron(cron) => {
                let local = t.with_timezone(&self.zone);
                cron.find_next_occurrence(&local, false).ok().map(|n| n.with_timezone(&Utc))
            }
        }
    }
}

/// What kube's `mostRecentScheduleTime` reads of a CronJob.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    pub created: DateTime<Utc>,
    pub last_scheduled: Option<DateTime<Utc>>,
    pub starting_deadline_seconds: Option<i64>,
}

/// What [`most_recent`] finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MostRecent {
    /// Where the count started: the last schedule or creation (or the starting deadline).
    pub earliest: DateTime<Utc>,
    /// The most recent start due by now, if any.
    pub due: Option<DateTime<Utc>>,
    pub missed: Missed,
}

/// kube's `mostRecentScheduleTime`: the time counted from (last schedule or creation, or
/// the starting deadline if later and `with_deadline`), the most recent start due by `now`,
/// and how many were missed. An error for a schedule that never or always fires.
pub fn most_recent(
    times: Times,
    now: DateTime<Utc>,
    schedule: &Schedule,
    with_deadline: bool,
) -> Result<MostRecent, String> {
    let mut earliest = times.last_scheduled.unwrap_or(times.created);
    if let Some(deadline) = times.starting_deadline_seconds.filter(|_| with_deadline) {
        let limit = now - chrono::Duration::seconds(deadline);
        if limit > earliest {
            earliest = limit;
        }
    }
    let never = || "time difference between two schedules is less than 1 second".to_string();
    let t1 = schedule.next(earliest).ok_or_else(never)?;
    if now < t1 {
        return Ok(MostRecent { earliest, due: None, missed: Missed::None });
    }
    let t2 = schedule.next(t1).ok_or_else(never)?;
    if now < t2 {
        return Ok(MostRecent { earliest, due: Some(t1), missed: Missed::None });
    }
    // Go's Round(time.Second), then whole seconds.
    let between = ((t2 - t1).num_milliseconds() + 500) / 1000;
    if between < 1 {
        return Err(never());
    }
    let elapsed = (now - t1).num_seconds();
    let missed = elapsed / between + 1;
    // Start one interval before the estimate and let the schedule find the exact times
    // (irregular schedules such as `30 6-16/4 * * 1-5`).
    let mut t = schedule.next(t1 + chrono::Duration::seconds((missed - 2) * between));
    let mut most_recent = None;
    while let Some(at) = t.filter(|at| *at <= now) {
        most_recent = Some(at);
        t = schedule.next(at);
    }
    let kind = if missed > MANY_MISSED { Missed::Many } else { Missed::Few };
    Ok(MostRecent { earliest, due: most_recent, missed: kind })
}

/// kube's `nextScheduleTimeDuration`: how long until the start after the most recent one,
/// plus [`NEXT_SCHEDULE_DELTA`].
pub fn next_requeue(times: Times, now: DateTime<Utc>, schedule: &Schedule) -> Option<Duration> {
    let from = match most_recent(times, now, schedule, false) {
        Err(_) => now,
        Ok(MostRecent { due: Some(t), .. }) => t,
        Ok(MostRecent { earliest, due: None, missed: Missed::None }) => earliest,
        Ok(MostRecent { due: None, .. }) => now,
    };
    let next = schedule.next(from)?;
    let wait = (next - now).to_std().unwrap_or(Duration::ZERO);
    Some(wait + NEXT_SCHEDULE_DELTA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap()
    }

    fn parse(spec: &str) -> Schedule {
        Schedule::parse(spec, Tz::UTC).unwrap()
    }

    fn times(created: DateTime<Utc>, last: Option<DateTime<Utc>>) -> Times {
        Times { created, last_scheduled: last, starting_deadline_seconds: None }
    }

    #[test]
    fn next_is_strictly_after() {
        let every_minute = parse("* * * * *");
        assert_eq!(every_minute.next(utc(2024, 5, 1, 10, 0, 0)), Some(utc(2024, 5, 1, 10, 1, 0)));
        let mid = utc(2024, 5, 1, 10, 0, 30) + chrono::Duration::milliseconds(400);
        assert_eq!(every_minute.next(mid), Some(utc(2024, 5, 1, 10, 1, 0)));
        assert_eq!(parse("@hourly").next(utc(2024, 5, 1, 10, 0, 0)), Some(utc(2024, 5, 1, 11, 0, 0)));
        assert_eq!(parse("@midnight").next(utc(2024, 5, 1, 10, 0, 0)), Some(utc(2024, 5, 2, 0, 0, 0)));
        assert_eq!(parse("0 9 * * mon-fri").next(utc(2024, 5, 3, 10, 0, 0)), Some(utc(2024, 5, 6, 9, 0, 0)));
        // Both day fields restricted: either matches (vixie cron, as robfig).
        assert_eq!(parse("0 0 13 * 5").next(utc(2024, 9, 1, 0, 0, 0)), Some(utc(2024, 9, 6, 0, 0, 0)));
        let every = parse("@every 1h30m");
        assert_eq!(every.next(utc(2024, 5, 1, 10, 0, 0)), Some(utc(2024, 5, 1, 11, 30, 0)));
        assert_eq!(parse("@every 300ms").next(utc(2024, 5, 1, 10, 0, 0)), Some(utc(2024, 5, 1, 10, 0, 1)));
    }

    #[test]
    fn rejects_what_robfig_rejects() {
        assert!(Schedule::parse("* * * *", Tz::UTC).is_err());
        assert!(Schedule::parse("@fortnightly", Tz::UTC).is_err());
        assert!(Schedule::parse("@every soon", Tz::UTC).is_err());
        assert!(Schedule::parse("TZ=Nowhere/City 0 * * * *", Tz::UTC).is_err());
        assert!(Schedule::parse("", Tz::UTC).is_err());
    }

    #[test]
    fn time_zones() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let nine = Schedule::parse("0 9 * * *", berlin).unwrap();
        // 09:00 in Berlin is 07:00 UTC in summer, 08:00 in winter.
        assert_eq!(nine.next(utc(2024, 7, 1, 0, 0, 0)), Some(utc(2024, 7, 1, 7, 0, 0)));
        assert_eq!(nine.next(utc(2024, 12, 1, 0, 0, 0)), Some(utc(2024, 12, 1, 8, 0, 0)));
        let legacy = Schedule::parse("CRON_TZ=America/New_York 0 9 * * *", Tz::UTC).unwrap();
        assert_eq!(legacy.next(utc(2024, 7, 1, 0, 0, 0)), Some(utc(2024, 7, 1, 13, 0, 0)));
    }

    #[test]
    fn most_recent_missed_start() {
        let s = parse("0 * * * *");
        let created = utc(2024, 5, 1, 10, 30, 0);
        // Before the first start: nothing due.
        let r = most_recent(times(created, None), utc(2024, 5, 1, 10, 59, 0), &s, true).unwrap();
        assert_eq!(r, MostRecent { earliest: created, due: None, missed: Missed::None });
        // Just after it: that one.
        let r = most_recent(times(created, None), utc(2024, 5, 1, 11, 0, 5), &s, true).unwrap();
        assert_eq!((r.due, r.missed), (Some(utc(2024, 5, 1, 11, 0, 0)), Missed::None));
        // Three hours later: the latest of the missed ones.
        let last = Some(utc(2024, 5, 1, 11, 0, 0));
        let r = most_recent(times(created, last), utc(2024, 5, 1, 14, 20, 0), &s, true).unwrap();
        assert_eq!(
            (r.earliest, r.due, r.missed),
            (utc(2024, 5, 1, 11, 0, 0), Some(utc(2024, 5, 1, 14, 0, 0)), Missed::Few)
        );
    }

    #[test]
    fn too_many_missed_starts() {
        let s = parse("* * * * *");
        let created = utc(2024, 5, 1, 0, 0, 0);
        let r = most_recent(times(created, None), utc(2024, 5, 1, 3, 0, 30), &s, true).unwrap();
        assert_eq!((r.due, r.missed), (Some(utc(2024, 5, 1, 3, 0, 0)), Missed::Many));
        // A starting deadline moves the start of the count: only the last minutes count.
        let t = Times { created, last_scheduled: None, starting_deadline_seconds: Some(200) };
        let r = most_recent(t, utc(2024, 5, 1, 3, 0, 30), &s, true).unwrap();
        assert_eq!((r.due, r.missed), (Some(utc(2024, 5, 1, 3, 0, 0)), Missed::Few));
        // Without it (the requeue computation), the deadline is ignored.
        let r = most_recent(t, utc(2024, 5, 1, 3, 0, 30), &s, false).unwrap();
        assert_eq!(r.missed, Missed::Many);
    }

    #[test]
    fn impossible_schedule_is_an_error() {
        let never = parse("0 0 31 2 *");
        assert!(most_recent(times(utc(2024, 1, 1, 0, 0, 0), None), utc(2024, 5, 1, 0, 0, 0), &never, true).is_err());
    }

    #[test]
    fn requeue_lands_just_after_the_next_start() {
        let s = parse("*/5 * * * *");
        let created = utc(2024, 5, 1, 10, 1, 0);
        let now = utc(2024, 5, 1, 10, 2, 0);
        let wait = next_requeue(times(created, None), now, &s).unwrap();
        assert_eq!(wait, Duration::from_secs(180) + NEXT_SCHEDULE_DELTA);
        // Right after a start was handled (lastScheduleTime set): the one after.
        let last = Some(utc(2024, 5, 1, 10, 5, 0));
        let wait = next_requeue(times(created, last), utc(2024, 5, 1, 10, 5, 1), &s).unwrap();
        assert_eq!(wait, Duration::from_secs(299) + NEXT_SCHEDULE_DELTA);
        // Missed starts not handled: counted from now.
        let wait = next_requeue(times(created, None), utc(2024, 5, 1, 10, 17, 0), &s).unwrap();
        assert_eq!(wait, Duration::from_secs(180) + NEXT_SCHEDULE_DELTA);
    }
}
