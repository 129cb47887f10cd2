//! Every word the dashboard shows, in one table per language: Russian first (the people
//! who run these fleets), English for a browser that asks for it first in
//! `Accept-Language`. One template uses whichever table the request picked.

use crate::admin::status_report::{FolderLabel, UnmappedKind};
use crate::model::lang::Lang;
use crate::model::operator_text::OperatorText;
use crate::rollout::status::RolloutState;

/// The dashboard's words in one language.
pub struct Text {
    pub lang: &'static str,
    pub title: &'static str,
    pub refreshes_every: &'static str,
    pub running_for: &'static str,
    pub current_release: &'static str,
    pub none: &'static str,
    pub no_release_published: &'static str,
    pub critical_version: &'static str,
    pub from_server_yaml: &'static str,
    pub from_release: &'static str,
    pub not_set: &'static str,
    pub devices_24h: &'static str,
    pub below_critical: &'static str,
    pub offered_not_critical: &'static str,
    pub up_to_date: &'static str,
    pub licensed_serials: &'static str,
    pub fleet_by_build_date: &'static str,
    pub no_device_yet: &'static str,
    pub releases: &'static str,
    pub version: &'static str,
    pub state: &'static str,
    pub description: &'static str,
    pub reason: &'static str,
    pub update_outcomes: &'static str,
    pub offered: &'static str,
    pub downloaded: &'static str,
    pub updated: &'static str,
    pub stuck: &'static str,
    pub days: &'static str,
    pub curves_note: &'static str,
    pub link_below_critical: &'static str,
    pub link_stuck: &'static str,
    pub link_missing_serials: &'static str,
    pub link_all_devices: &'static str,
    pub link_history: &'static str,
    pub inventory_not_writing: &'static str,
    pub license_files: &'static str,
    pub file: &'static str,
    pub serials: &'static str,
    pub problems: &'static str,
    pub recent_devices: &'static str,
    pub address: &'static str,
    pub build_date: &'static str,
    pub serial: &'static str,
    pub seen: &'static str,
    pub reloads: &'static str,
    pub local_time: &'static str,
    pub trigger: &'static str,
    pub outcome: &'static str,
    pub ms: &'static str,
    pub is_current: &'static str,
    pub ago: &'static str,
    pub unit_s: &'static str,
    pub unit_min: &'static str,
    pub unit_h: &'static str,
    pub unit_d: &'static str,
    pub state_current: &'static str,
    pub state_published: &'static str,
    pub state_settling: &'static str,
    pub state_rejected: &'static str,
    pub lines: &'static str,
    pub line: &'static str,
    pub default_line: &'static str,
    pub known_builds: &'static str,
    pub line_not_served: &'static str,
    pub rollouts: &'static str,
    pub settings: &'static str,
    pub admitted: &'static str,
    pub left_this_hour: &'static str,
    pub no_cap: &'static str,
    pub window: &'static str,
    pub all_day: &'static str,
    pub halted_because: &'static str,
    pub resume_hint: &'static str,
    pub unmapped_dates: &'static str,
    pub unmapped_note: &'static str,
    pub kind: &'static str,
    pub served_by: &'static str,
    pub no_update: &'static str,
    pub rollout_admitting: &'static str,
    pub rollout_paused: &'static str,
    pub rollout_halted: &'static str,
    pub rollout_outside_window: &'static str,
    pub rollout_cap_reached: &'static str,
    pub kind_unknown: &'static str,
    pub kind_ambiguous: &'static str,
    pub no_line_card: &'static str,
    pub tls_certificate: &'static str,
    /// Before the critical date on the fleet chart.
    pub critical_word: &'static str,
    /// A reload's trigger (`startup`, `files`, `signal`, `settle`, `request`) in words.
    pub triggers: [(&'static str, &'static str); 5],
    /// After a critical release or offer: "(critical)".
    pub critical_mark: &'static str,
    /// The header of the column of what a device says it is (its User-Agent).
    pub user_agent: &'static str,
    /// The other pages' words in the same language.
    pub pages: &'static crate::admin::page_text::PageText,
    /// The command line's and the log's words in the same language (one table for both:
    /// the summary lines the dashboard repeats read as `check` prints them).
    pub operator: &'static OperatorText,
    /// The red banner of a file that does not load: "<file> does not load for <time>".
    pub stale_for: &'static str,
    pub stale_since: &'static str,
    pub stale_config_kept: &'static str,
    pub stale_licenses_kept: &'static str,
    pub stale_licenses_none: &'static str,
    pub stale_fix: &'static str,
    // Upgrade floors: each line's path, floors in order, then the newest.
    pub upgrade_path: &'static str,
    pub upgrade_path_then_newest: &'static str,
    // Stages that advance themselves: the stage line under a rollout's state.
    /// "stage {n} of {of}: {percent}%".
    pub stage_of: &'static str,
    pub stage_since: &'static str,
    /// By `StageState`: soaking, waiting, advancing, last, halted, paused.
    pub stage_states: [&'static str; 6],
}

impl Text {
    /// A rollout's stage in words: "stage 2 of 3: 25%, since 30.11.2026 09:40 — waiting:
    /// 18 of 20 downloads confirmed (90%, needs 95%), …".
    pub fn stage_line(&self, stage: &crate::rollout::status::StageStatus, since: &str) -> String {
        use crate::rollout::status::StageState;
        let state = match stage.state {
            StageState::Soaking => 0,
            StageState::Waiting => 1,
            StageState::Advancing => 2,
            StageState::Last => 3,
            StageState::Halted => 4,
            StageState::Paused => 5,
        };
        let mut line = self
            .stage_of
            .replace("{n}", &stage.number.to_string())
            .replace("{of}", &stage.of.to_string())
            .replace("{percent}", &stage.percent.to_string());
        if !since.is_empty() {
            line.push_str(&format!(", {} {since}", self.stage_since));
        }
        line.push_str(" — ");
        line.push_str(self.stage_states[state]);
        let waiting = if self.lang == "ru" {
            &stage.waiting_for_ru
        } else {
            &stage.waiting_for
        };
        if let Some(waiting) = waiting {
            line.push_str(": ");
            line.push_str(waiting);
        }
        line
    }

    /// A rollout's state in words.
    pub fn rollout_state(&self, state: &RolloutState) -> &'static str {
        match state {
            RolloutState::Paused => self.rollout_paused,
            RolloutState::Halted => self.rollout_halted,
            RolloutState::OutsideWindow => self.rollout_outside_window,
            RolloutState::HourlyCapReached => self.rollout_cap_reached,
            RolloutState::Admitting => self.rollout_admitting,
        }
    }

    /// The kind of an unmapped build date in words.
    pub fn unmapped_kind(&self, kind: &UnmappedKind) -> &'static str {
        match kind {
            UnmappedKind::Ambiguous => self.kind_ambiguous,
            UnmappedKind::Unknown => self.kind_unknown,
        }
    }

    /// A line's name, the default line in words.
    pub fn line_name<'a>(&self, name: &'a str) -> &'a str {
        if name.is_empty() {
            self.default_line
        } else {
            name
        }
    }

    /// A rollout's settings in words: Russian for the Russian page, the English of
    /// `/status` for the English one.
    pub fn rollout_settings<'a>(&self, view: &'a crate::rollout::status::RolloutView) -> &'a str {
        if self.lang == "ru" {
            &view.settings_ru
        } else {
            &view.settings
        }
    }

    /// The problems under the releases table, in this language where the table has them.
    pub fn release_problems(&self, status: &crate::admin::status_report::Status) -> Vec<String> {
        let mut problems = status.release_problems.clone();
        if let (true, Some(ru), Some(last)) = (
            self.lang == "ru",
            &status.no_release_ru,
            problems.last_mut(),
        ) {
            ru.clone_into(last);
        }
        problems
    }

    /// A reload's trigger in words; one the table does not know stays as recorded.
    pub fn trigger_name<'a>(&self, trigger: &'a str) -> &'a str {
        self.triggers
            .iter()
            .find(|(name, _)| *name == trigger)
            .map_or(trigger, |(_, words)| words)
    }

    /// A date written yyyymmdd (a release, a build) as the pages write dates, DD.MM.YYYY.
    pub fn date(&self, yyyymmdd: &u32) -> String {
        crate::model::version::day_month_year(*yyyymmdd)
    }

    /// A release folder's state in words.
    pub fn state_name(&self, state: &FolderLabel) -> &'static str {
        match state {
            FolderLabel::Current => self.state_current,
            FolderLabel::Published => self.state_published,
            FolderLabel::Settling => self.state_settling,
            FolderLabel::Rejected => self.state_rejected,
        }
    }
}

pub static RU: Text = Text {
    lang: "ru",
    title: "kkt-update-server — обновления ККТ",
    refreshes_every: "Обновляется каждые",
    running_for: "работает",
    current_release: "Текущий релиз",
    none: "нет",
    no_release_published: "ни один релиз не опубликован",
    critical_version: "Критическая версия",
    from_server_yaml: "из server.yaml",
    from_release: "из релиза, помеченного как критический",
    not_set: "не задана",
    devices_24h: "ККТ за 24 ч",
    below_critical: "Ниже критической",
    offered_not_critical: "Предложено обновление, не критично",
    up_to_date: "Актуальны",
    licensed_serials: "Лицензии (заводских номеров)",
    fleet_by_build_date: "Парк по дате сборки (за 24 ч)",
    no_device_yet: "Ни одна ККТ ещё не обращалась.",
    releases: "Релизы",
    version: "Версия",
    state: "Состояние",
    description: "Описание",
    reason: "Причина",
    update_outcomes: "Обновления по релизам",
    offered: "Предложено",
    downloaded: "Скачали",
    updated: "Обновились",
    stuck: "Застряли",
    days: "дн.",
    curves_note: "пунктир: скачали; линия: обновились",
    link_below_critical: "ККТ ниже критической версии",
    link_stuck: "застрявшие",
    link_missing_serials: "номера без лицензии — заказать у производителя",
    link_all_devices: "все ККТ",
    link_history: "история",
    inventory_not_writing: "Инвентарь не записывается:",
    license_files: "Файлы лицензий",
    file: "Файл",
    serials: "Заводских номеров",
    problems: "Проблемы",
    recent_devices: "Последние ККТ",
    address: "Адрес",
    build_date: "Дата сборки",
    serial: "Заводской номер",
    seen: "Когда",
    reloads: "Перезагрузки",
    local_time: "Время (местное)",
    trigger: "Причина",
    outcome: "Итог",
    ms: "мс",
    is_current: "актуальна",
    ago: "назад",
    unit_s: "с",
    unit_min: "мин",
    unit_h: "ч",
    unit_d: "д",
    state_current: "текущий",
    state_published: "опубликован",
    state_settling: "ожидает",
    state_rejected: "отклонён",
    lines: "Линейки прошивок",
    line: "Линейка",
    default_line: "(основная)",
    known_builds: "Известные сборки",
    line_not_served: "Линейка не обслуживается:",
    rollouts: "Поэтапный выпуск",
    settings: "Настройки",
    admitted: "Допущено",
    left_this_hour: "Осталось в этот час",
    no_cap: "без ограничения",
    window: "Окно",
    all_day: "круглосуточно",
    halted_because: "Остановлен автоматически:",
    resume_hint: "чтобы продолжить, измените настройки поэтапного обновления в meta.yaml",
    unmapped_dates: "Даты сборки без линейки",
    unmapped_note: "Добавьте дату в known_builds нужного line.yaml, чтобы эти ККТ получали обновления своей линейки.",
    kind: "Вид",
    served_by: "Обслуживает",
    no_update: "не получают обновлений",
    rollout_admitting: "допускает",
    rollout_paused: "на паузе",
    rollout_halted: "остановлен",
    rollout_outside_window: "вне окна",
    rollout_cap_reached: "лимит часа исчерпан",
    kind_unknown: "неизвестная",
    kind_ambiguous: "в нескольких линейках",
    no_line_card: "Без линейки (нет обновлений)",
    tls_certificate: "TLS-сертификат истекает через",
    critical_word: "критическая",
    triggers: [
        ("startup", "запуск"),
        ("files", "изменение файлов"),
        ("signal", "сигнал SIGHUP"),
        ("settle", "истекло ожидание"),
        ("request", "запрос"),
    ],
    critical_mark: "(критический)",
    user_agent: "Клиент (User-Agent)",
    pages: &crate::admin::page_text::RU,
    operator: &crate::model::operator_text::RU,
    stale_for: "не читается уже",
    stale_since: "с",
    stale_config_kept: "Сервер работает с прежней конфигурацией, пока файл не исправлен.",
    stale_licenses_kept: "Пока файл не исправлен, выдаются лицензии, загруженные раньше:",
    stale_licenses_none: "Из этого файла не выдаётся ни одной лицензии: каждый его серийный \
                          номер получает 404, пока файл не исправлен.",
    stale_fix: "Исправьте файл: сервер подхватит его без перезапуска \
                (проверить: kkt-update-server check).",
    upgrade_path: "Путь обновления (опорные релизы по порядку)",
    upgrade_path_then_newest: "затем новейший",
    stage_of: "этап {n} из {of}: {percent}%",
    stage_since: "с",
    stage_states: [
        "выдерживается",
        "ждёт подтверждений",
        "переходит к следующему этапу",
        "последний этап",
        "остановлен",
        "на паузе, время этапа стоит",
    ],
};

pub static EN: Text = Text {
    lang: "en",
    title: "kkt-update-server — register updates",
    refreshes_every: "Refreshes every",
    running_for: "up",
    current_release: "Current release",
    none: "none",
    no_release_published: "no release published",
    critical_version: "Critical version",
    from_server_yaml: "from server.yaml",
    from_release: "from a release (critical: true)",
    not_set: "not set",
    devices_24h: "Devices, 24 h",
    below_critical: "Below critical",
    offered_not_critical: "Update offered, not critical",
    up_to_date: "Up to date",
    licensed_serials: "Licensed serials",
    fleet_by_build_date: "Fleet by build date (24 h)",
    no_device_yet: "No register has asked yet.",
    releases: "Releases",
    version: "Version",
    state: "State",
    description: "Description",
    reason: "Reason",
    update_outcomes: "Update outcomes",
    offered: "Offered",
    downloaded: "Downloaded",
    updated: "Updated",
    stuck: "Stuck",
    days: "days",
    curves_note: "dashed: downloaded; solid: updated",
    link_below_critical: "registers below the critical version",
    link_stuck: "stuck",
    link_missing_serials: "serials without a license — order them",
    link_all_devices: "every register",
    link_history: "history",
    inventory_not_writing: "The inventory is not being written:",
    license_files: "License files",
    file: "File",
    serials: "Serials",
    problems: "Problems",
    recent_devices: "Recent registers",
    address: "Address",
    build_date: "Build date",
    serial: "Serial",
    seen: "Seen",
    reloads: "Reloads",
    local_time: "Time (local)",
    trigger: "Trigger",
    outcome: "Outcome",
    ms: "ms",
    is_current: "up to date",
    ago: "ago",
    unit_s: "s",
    unit_min: "min",
    unit_h: "h",
    unit_d: "d",
    state_current: "current",
    state_published: "published",
    state_settling: "settling",
    state_rejected: "rejected",
    lines: "Firmware lines",
    line: "Line",
    default_line: "(default)",
    known_builds: "Known builds",
    line_not_served: "Line not served:",
    rollouts: "Staged rollouts",
    settings: "Settings",
    admitted: "Admitted",
    left_this_hour: "Left this hour",
    no_cap: "no cap",
    window: "Window",
    all_day: "all day",
    halted_because: "Halted automatically:",
    resume_hint: "edit rollout in meta.yaml to resume",
    unmapped_dates: "Build dates without a line",
    unmapped_note: "Add the date to known_builds of the right line.yaml so these registers get their line's updates.",
    kind: "Kind",
    served_by: "Served by",
    no_update: "get no update",
    rollout_admitting: "admitting",
    rollout_paused: "paused",
    rollout_halted: "halted",
    rollout_outside_window: "outside its window",
    rollout_cap_reached: "hourly cap reached",
    kind_unknown: "unknown",
    kind_ambiguous: "in several lines",
    no_line_card: "No line (no update)",
    tls_certificate: "TLS certificate expires in",
    critical_word: "critical",
    triggers: [
        ("startup", "startup"),
        ("files", "files"),
        ("signal", "signal"),
        ("settle", "settle"),
        ("request", "request"),
    ],
    critical_mark: "(critical)",
    user_agent: "User-Agent",
    pages: &crate::admin::page_text::EN,
    operator: &crate::model::operator_text::EN,
    stale_for: "has not loaded for",
    stale_since: "since",
    stale_config_kept: "The server keeps the configuration it had until the file is fixed.",
    stale_licenses_kept: "Until the file is fixed, the licenses loaded before are served:",
    stale_licenses_none: "No license is served from this file: every serial in it gets 404 \
                          until the file is fixed.",
    stale_fix: "Fix the file: the server picks it up without a restart \
                (check it with kkt-update-server check).",
    upgrade_path: "Upgrade path (floors, in order)",
    upgrade_path_then_newest: "then the newest",
    stage_of: "stage {n} of {of}: {percent}%",
    stage_since: "since",
    stage_states: [
        "soaking",
        "waiting",
        "advancing",
        "last stage",
        "halted",
        "paused, its clock stands still",
    ],
};

/// The table of a language.
pub fn for_lang(lang: Lang) -> &'static Text {
    match lang {
        Lang::Ru => &RU,
        Lang::En => &EN,
    }
}

/// The table for a request: English when the browser's first choice is English, else
/// Russian.
pub fn for_request(accept_language: Option<&str>) -> &'static Text {
    let first = accept_language
        .and_then(|header| header.split(',').next())
        .map(|tag| {
            tag.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if first == "en" || first.starts_with("en-") {
        &EN
    } else {
        &RU
    }
}

/// A span in the units of `t` ("2 h 5 min"), rounded down: the dashboard's ages and
/// uptime, and a stage's soak left on a register's page.
pub fn duration_text(secs: u64, t: &Text) -> String {
    let (s, min, h, d) = (t.unit_s, t.unit_min, t.unit_h, t.unit_d);
    match secs {
        n if n < 60 => format!("{n} {s}"),
        n if n < 3600 => format!("{} {min}", n / 60),
        n if n < 86_400 => format!("{} {h} {} {min}", n / 3600, n / 60 % 60),
        n => format!("{} {d} {} {h}", n / 86_400, n / 3600 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_unless_the_browser_asks_for_english_first() {
        assert_eq!(for_request(None).lang, "ru");
        assert_eq!(for_request(Some("ru-RU,ru;q=0.9,en;q=0.8")).lang, "ru");
        assert_eq!(for_request(Some("en-US,en;q=0.9")).lang, "en");
        assert_eq!(for_request(Some("de-DE,en;q=0.5")).lang, "ru");
        assert_eq!(RU.state_name(&FolderLabel::Settling), "ожидает");
        assert_eq!(for_lang(Lang::Ru).lang, "ru");
        assert_eq!(for_lang(Lang::En).operator.check_passed, "check passed");
    }
}
