//! Every word an operator reads in Russian, in one table: the command line and the log
//! lines (`OPERATOR`), the dashboard (`DASHBOARD`), the other pages (`PAGES`), the log lines an
//! operator acts on (`LOG`) and the configuration's refusals and warnings (`CONFIG`). The
//! structures, and what reads each field, are in the sibling modules; `en.rs` holds the
//! same table in English, field for field.

use super::cli::OperatorText;
use super::config::ConfigText;
use super::dashboard::Text;
use super::log::LogText;
use super::pages::PageText;
use super::scan::{RolloutText, ScanText};
use super::watch::WatchText;
use super::Words;
use crate::model::lang::Lang;

/// All of it.
pub static WORDS: Words = Words {
    lang: Lang::Ru,
    operator: &OPERATOR,
    dashboard: &DASHBOARD,
    pages: &PAGES,
    log: &LOG,
    config: &CONFIG,
    scan: &SCAN,
    rollout: &ROLLOUT,
    watch: &WATCH,
    // groups
    groups: &GROUPS,
};

pub static OPERATOR: OperatorText = OperatorText {
    yes: "да",
    no: "нет",
    none: "нет",
    current_release: "текущий релиз {version} ({description}, критический: {critical})",
    no_release_published: "в {dir} не опубликован ни один релиз: ККТ получают ответ «обновлений нет»",
    critical_version: "критическая версия {version} (источник: {source})",
    critical_from_config: "critical_version в конфигурации",
    critical_from_release: "релиз, помеченный как критический",
    no_critical_version: "критическая версия не задана: ни одной ККТ обновление не предлагается как критическое",
    licenses_count: "заводских номеров с лицензиями: {serials}, файлов лицензий: {files}",
    current_per_line: "текущий релиз по линейкам: {lines}",
    no_lines_any_more: "линеек прошивок больше нет",
    row_firmware_dir: "папка прошивок (firmware_dir) {dir}",
    row_current: "текущий      {description}, критический: {critical}{rollout}",
    row_published: "опубликован  {description}, критический: {critical}{rollout}",
    row_settling: "ожидает      {reason}; повторная проверка через {ms} мс{serving}",
    row_still_serving: " (пока раздаётся ранее проверенная версия)",
    row_rejected: "отклонён     {reason}",
    row_rollout: ", поэтапное обновление: {rollout}",
    row_line: "линейка {name} {description} в {dir}",
    row_known_builds: "    известные сборки: {builds}",
    row_no_known_builds: "только сборки её релизов",
    row_line_critical: "    критическая версия: {version}",
    row_line_no_release: "    в этой линейке не опубликован ни один релиз",
    row_line_not_served: "линейка {name} не обслуживается: {reason}",
    row_licenses: "лицензии",
    row_license_file: "  {file}: заводских номеров: {count}",
    check_listen: "адрес для ККТ (listen) {addr}",
    check_tls: "tls: сертификатов: {count} в {cert}, ключ в {key}: ок{https}{admin}",
    check_tls_https: "; HTTPS на {addr}",
    check_tls_admin: "; панель администратора по HTTPS",
    warning: "предупреждение",
    problem: "ошибка",
    check_passed: "проверка пройдена",
    check_failed: "проверка не пройдена: ошибок: {count}",
    check_no_release: "ещё не опубликован ни один релиз: ККТ получают ответ «обновлений нет». {next}",
    check_as_root: "check запущен от root и может читать любой файл; служба работает от своего \
                    пользователя и может не иметь доступа. Запустите проверку от его имени, \
                    чтобы увидеть то же, что служба: sudo -u kkt kkt-update-server check --config <server.yaml>",
    next_step: "Дальше: положите upd_app.bin и upd_app_for_old_frs.bin от производителя в папку с \
                датой релиза в имени (ггггммдд, например 20250301) и скопируйте её в {into} или \
                выполните {program} publish <эта папка>{line_flag}{config_flag}",
    next_step_line_folder: "папку её линейки в {dir} ({lines})",
    publish_release: "релиз {version}{where}: {description}{critical}",
    publish_in_line: " в линейке {line}",
    publish_critical: ", критический",
    publish_file: "  {name}: {bytes} байт, sha256 {hash}",
    publish_rollout: "  поэтапное обновление: {rollout}",
    publish_dry_run_replace: "пробный запуск: заменил бы на месте {target} (ничего не записано)",
    publish_dry_run_new: "пробный запуск: опубликовал бы как {target} (ничего не записано)",
    publish_published: "опубликован {target} (закреплён по sha256, записан на диск)",
    publish_replaced: "заменён на месте {target} (закреплён по sha256, записан на диск)",
    offer_devices: "ККТ",
    offer_devices_of_line: "ККТ линейки {line}",
    offer_now_offered: "{named} со сборкой до {version} теперь получают его",
    offer_newer_stays: "{version} опубликован, но {newer} новее и остаётся релизом, который получают {named}",
    offer_offered: "{named} сейчас получают {version}",
    offer_now: "теперь {named} со сборкой до {version} получают {version}",
    offer_line_not_served: "линейка {line} не обслуживается (см. kkt-update-server check)",
    offer_no_release: "в линейке {line} сейчас не опубликован ни один релиз: {named} получают ответ «обновлений нет»",
    offer_as_rollout_admits: " по мере допуска поэтапным обновлением ({rollout}); остальные остаются на предыдущем релизе",
    offer_everyone: " (все)",
    offer_critical_before: "; сборкам до {version} обновление предлагается как критическое",
    served_now: "работающий сервер раздаёт его ({seconds} с)",
    no_server_answered: "работающий сервер не ответил ({why}); сервер, запущенный позже, найдёт релиз сам",
    ask_version: "дата релиза {source} (ггггммдд): ",
    withdrew: "релиз {version} отозван: перенесён в {moved} (опубликовать снова: kkt-update-server publish {moved} --replace{line_flag})",
    withdraw_no_longer_served: "работающий сервер больше его не раздаёт",
    withdraw_no_server: "работающий сервер не ответил; ждать больше нечего",
    service_installed: "служба {name} установлена (запускается при загрузке) с конфигурацией \
                        {config}\n\
                        запустить сейчас: sc start {name}   (или в services.msc)\n\
                        её журнал: {log}\n",
    service_removed: "служба {name} удалена\n",
    service_no_config: "укажите --config с путём к server.yaml: служба читает конфигурацию оттуда",
    service_config_missing: "{file} не существует",
    service_config_path: "не удаётся найти {file}: {why}",
    service_current_exe: "не удаётся определить, где лежит эта программа: {why}",
    service_run_by_windows: "`service run` запускает диспетчер служб Windows",
    service_log_unwritable: "не удаётся писать журнал {file}: {why}",
    service_not_here: "службы Windows есть только в Windows; в Linux запускайте сервер через \
                       юнит systemd из contrib/ (или пакет .deb, который его устанавливает)",
    service_manager: "не удаётся открыть диспетчер служб (запустите от имени администратора): \
                      {why}",
    service_create: "не удаётся создать службу {name}: {why}",
    service_describe: "не удаётся задать описание службы {name}: {why}",
    service_no_such: "службы {name} нет: {why}",
    service_remove: "не удаётся удалить службу {name}: {why}",
    service_already_running: "служба уже работает",
    service_not_started: "не удаётся запуститься как служба ({why}); `service run` запускает \
                          диспетчер служб: установите службу командой `kkt-update-server \
                          service install` или запустите сервер напрямую",
    reload_no_admin: "admin_listen выключен, поэтому спросить некого; задайте admin_listen \
                      (перезагрузка идёт через него) или, в Unix, пошлите SIGHUP",
    reload_answered: "сервер ответил {status}: {body}",
    reload_done: "сервер перечитал файлы за {ms} мс: {outcome}",
    reload_kept: "сервер оставил прежнее состояние ({ms} мс): {outcome}",
    client_no_admin: "admin_listen выключен, поэтому работающий сервер спросить нельзя",
    client_token_refused: "токен не принят: передайте токен оператора через --token или \
                           KKT_TOKEN (или задайте admin_token таким же, как у сервера)",
    client_unreachable: "не удаётся связаться с сервером ({which}) по адресу {target}; он запущен?",
    client_admin: "панель администратора",
    client_device: "адрес для ККТ",
    meta_floor_not_bool: "floor: {value} — не true и не false (ожидается floor: true, чтобы ККТ \
                          со сборкой старше этого релиза сначала устанавливали его)",
    row_upgrade_path: "путь обновления: {path}",
    path_floor: "опорный {version}",
    path_newest: "новейший {version}",
    publish_floor: "  опорный релиз (floor): ККТ со сборкой старше {version} сначала устанавливают его",
    offer_floors_first: "; ККТ ниже опорного релиза сначала устанавливают его ({path})",
    rollout_deadline_invalid: "rollout.deadline: {value} — не дата (ожидается ГГГГ-ММ-ДД, например 2026-12-31)",
    // audit: the audit trail (branch audit).
    audit_broken: "запись журнала аудита {seq} испорчена: {why}",
    audit_unknown_action: "её действие {action} не из тех, что записывает сервер",
    audit_bad_field: "её поле {field} не такое, как пишет сервер (слишком длинное, в несколько строк или не хеш)",
    audit_missing: "её нет, хотя более поздняя запись есть (её удалили)",
    audit_edited: "её байты не дают хеш, записанный в поле prev записи {next} (её изменили, или изменили prev записи {next})",
    audit_unanchored: "записей до неё нет, и ни одна контрольная точка не говорит, что их удалили по сроку хранения",
    audit_head_not_found: "вершина {head} — хеш ни одной сохранённой записи: записи после {last} удалены или последняя изменена",
    audit_ok: "в порядке: записей {count}, вершина {head}",
    audit_head_not_hash: "--head {value} — не хеш (ожидаются 64 строчные шестнадцатеричные цифры, как в журнале сервера)",
    audit_unreadable: "не удаётся прочитать журнал аудита из {store}: {why}",
    audit_inventory_off: "хранилище выключено (inventory: off в server.yaml): проверять нечего",
    audit_head_pruned: "внимание: указанной вершины больше нет в журнале: контрольная точка {seq} ({at}) говорит, что её удалили по сроку хранения. По сроку удаляются только записи старше {days} дн., поэтому это верно, лишь если вершина записана в журнал сервера до {before}; если позже — записи удалили вручную",
    // operators (branch `operators`).
    token_new_made: "Новый токен для {name} ({role}). Передайте его оператору: он показан \
                     только сейчас, а сервер хранит лишь его SHA-256.\n\n    {token}\n\n\
                     Добавьте эту строку в operators: в server.yaml (работающий сервер \
                     применит её при следующем перечитывании):\n\n{line}\n",
    token_new_refused: "token new: {problem}",
    token_new_no_random: "token new: система не выдала случайных байтов: {why}",
    client_token_chars: "в токене допустимы только латинские буквы, цифры и знаки препинания \
                         (без пробелов и переводов строки); проверьте --token или KKT_TOKEN",
    client_forbidden: "сервер не разрешает это оператору с таким токеном (его роль ниже \
                       нужной): {body}",
};

pub static DASHBOARD: Text = Text {
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
    pages: &PAGES,
    operator: &OPERATOR,
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
    deadline: "Срок",
    deadline_on_time: "успеваем",
    deadline_late: "не успеваем",
    projected_finish: "окончание ≈",
    devices_below: "ниже релиза ещё {n} ККТ линейки",
    projection_reasons: [
        ("finished", "все ККТ линейки уже на этом релизе"),
        ("paused", "окончание не прогнозируется: выпуск приостановлен"),
        ("halted", "окончание не прогнозируется: выпуск остановлен"),
        (
            "no_confirmation_yet",
            "окончание не прогнозируется: ни одна ККТ ещё не подтвердила обновление",
        ),
        (
            "plan_ends_below_100_percent",
            "не все ККТ будут допущены: последний этап ниже 100%",
        ),
        (
            "stage_never_passes",
            "этап не сможет завершиться: min_updated больше, чем он допускает",
        ),
        ("beyond_two_years", "окончание позже чем через два года"),
        ("pending", "прогноз считается"),
        ("no_inventory", "прогноза нет: инвентарь выключен"),
    ],
};

pub static PAGES: PageText = PageText {
    why_heading: "Обновление",
    why_no_build_date: "Касса ещё не сообщала дату сборки прошивки (спрашивала только лицензии), поэтому обновление ей не предлагалось.",
    why_unknown_build: "Дата сборки {build} не относится ни к одной линии прошивок: касса слышит «обновлений нет». Добавьте эту дату в builds нужной линии.",
    why_ambiguous_line: "Дата сборки {build} указана в нескольких линиях сразу: пока это не исправлено, касса слышит «обновлений нет».",
    why_no_release: "В линии «{line}» нет опубликованного релиза: касса слышит «обновлений нет».",
    why_up_to_date: "Прошивка актуальна: сборка {build}, текущий релиз линии «{line}» — {version}.",
    why_offered: "Предлагается обновление до {version} (сейчас сборка {build}, линия «{line}»).",
    why_below_critical: "Обновление обязательное: сборка {build} старше критической версии {version}.",
    why_held_back: "Более новый релиз {version} выпускается поэтапно, и эта касса в него ещё не допущена.",
    why_not_admitted: "Есть более новый релиз {version}, но он выпускается поэтапно ({percent}% касс), и эта касса ещё не допущена: она слышит «обновлений нет» (сборка {build}).",
    why_paused: "Выпуск приостановлен: новых касс не допускают.",
    why_not_admitted_critical: "Касса ниже критической версии и получит обязательное обновление, когда её допустят.",
    device_title: "Касса",
    back: "← к панели",
    polls: "Обращения",
    first_seen: "Впервые",
    last_seen: "Последний раз",
    last_check_in: "Последняя проверка обновлений",
    client: "Драйвер (программа кассы)",
    offers: "Предложенные обновления",
    offered_at: "Предложено",
    downloaded_at: "Скачано",
    updated_at: "Обновлено",
    downloads: "Скачивания",
    bytes: "Байт",
    complete: "Целиком",
    times: "Раз",
    licensed: "Лицензия есть",
    admissions: "Допуски к поэтапному выпуску",
    pilot: "Пилот",
    yes: "да",
    no: "нет",
    never: "никогда",
    nothing_yet: "Пока ничего.",
    devices_title: "Кассы",
    stuck_title: "Застрявшие обновления",
    history_title: "История",
    search: "Поиск",
    search_hint: "адрес, заводской номер или драйвер",
    any: "любой",
    find: "Найти",
    found: "Найдено",
    next_page: "Дальше →",
    outcome_pending: "предложено",
    outcome_downloaded: "скачано",
    outcome_updated: "обновлено",
    outcome_stuck: "застряло",
    attention: "Требует внимания",
    attention_none: "Всё в порядке: ничего не требует внимания.",
    attention_no_release: "Ни один релиз не опубликован: кассы слышат «обновлений нет».",
    attention_below_critical: "Касс ниже критической версии",
    attention_stuck: "Застрявших обновлений",
    attention_rejected: "Отклонённых папок релизов",
    attention_halted: "Поэтапных выпусков остановлено или приостановлено",
    attention_inventory: "Память парка не записывается.",
    one_day_only: "Данные есть только за один день: график появится со второго дня.",
    event: "Событие",
    detail: "Подробности",
    kinds: [
        "опубликован",
        "изменён",
        "выпуск приостановлен",
        "выпуск возобновлён",
        "выпуск остановлен (застрявшие)",
        "выпуск продолжен",
        "отозван",
        "отклонён",
        "лицензии загружены",
        "касса сменила прошивку",
        "сервер запущен",
    ],
    why_below_floor: "Ниже опорного релиза: предлагается опорный релиз {floor}, только потом {newest} (сейчас сборка {build}, линия «{line}»).",
    why_below_floor_not_admitted: "Ниже опорного релиза: сначала нужно установить {floor}, только потом {newest}, но поэтапный выпуск {floor} эту кассу ещё не допустил.",
    why_below_floor_meanwhile: "Пока предлагается {version} (сейчас сборка {build}, линия «{line}»).",
    why_below_floor_nothing: "Пока она слышит «обновлений нет» (сборка {build}, линия «{line}»).",
    kind_advanced: "следующий этап",
    kind_stage_forced: "этап задан вручную",
    kept_bucket: "Номер кассы в этом выпуске (от 0 до 99, по её адресу и релизу) — {bucket}, а выпуск допускает номера ниже {percent}.",
    kept_bucket_stage: "Номер кассы в этом выпуске (от 0 до 99, по её адресу и релизу) — {bucket}, а этап {stage} из {stages} допускает номера ниже {percent}.",
    kept_stage_soaking: "Этап {stage} продлится ещё {left}, потом может начаться этап {next} (номера ниже {next_percent}).",
    kept_stage_waiting: "Срок этапа {stage} вышел, и он ждёт подтверждений, чтобы начать этап {next} (номера ниже {next_percent}): {figures}.",
    kept_stage_advancing: "Этап {stage} пройден: этап {next} (номера ниже {next_percent}) начнётся через несколько секунд.",
    kept_stage_last: "Этап {stage} последний: чтобы допустить эту кассу, увеличьте его percent.",
    kept_outside_window: "Новые кассы допускаются только в окне {window} (местное время сервера), а сейчас там {time}.",
    kept_hourly_cap: "Лимит в час исчерпан: за последний час допущено {admitted}, можно не больше {cap} в час.",
    kept_hourly_cap_stage: "Лимит в час исчерпан: за последний час допущено {admitted}, на этапе {stage} из {stages} можно не больше {cap} в час.",
    kept_halted: "Выпуск остановлен автоматически: застряли {stuck} из {finished} касс, скачавших релиз ({share}, порог {threshold}). Любая правка rollout: в его meta.yaml возобновит выпуск.",
    kept_admitted_at_next_check: "Сейчас её ничто не держит: она будет допущена при следующей проверке обновлений.",
    // audit: the audit trail (branch audit).
    audit_title: "Журнал аудита",
    audit_seq: "№",
    audit_actor: "Кто",
    audit_action: "Действие",
    audit_subject: "Что",
    audit_result: "Результат",
    audit_head: "Хеш последней записи (вершина):",
    audit_verify_hint: "Проверить цепочку: kkt-update-server audit verify --head <хеш>",
    // operators (branch `operators`).
    login_title: "Вход",
    login_intro: "Введите свой токен оператора (его выдаёт администратор командой \
                  kkt-update-server token new). Браузер помнит вход до конца смены \
                  (session_ttl_s) или до выхода.",
    login_token: "Токен",
    login_submit: "Войти",
    login_wrong: "Такого токена нет ни у одного оператора. Проверьте, что он скопирован \
                  целиком.",
    login_needed: "Для этой страницы нужен вход: токен не передан или не принадлежит ни одному \
                   оператору.",
    login_open: "На этом сервере токены не заданы: панель открыта без входа.",
    login_signed_in: "Вы вошли как {name} ({role}).",
    login_to_dashboard: "К панели",
    logout: "Выйти",
    // forms (branch `forms`).
    forms_signed_in: "Вы: {name} ({role})",
    forms_upload_title: "Загрузить релиз",
    forms_upload_open: "Загрузить релиз…",
    forms_upload_intro: "Архив .zip с папкой релиза или два файла прошивки по отдельности. Проверки те же, что у команды publish; ответ придёт, когда релиз уже раздаётся.",
    forms_zip: "Архив (.zip)",
    forms_or_files: "или два файла:",
    forms_version: "Версия (ГГГГММДД; пусто — из имени архива)",
    forms_line: "Линейка",
    forms_description: "Описание",
    forms_critical: "Критическое (кассы ниже обязаны обновиться)",
    forms_floor: "Ступень (floor): кассы ниже сначала получают её",
    forms_rollout_percent: "Доля выпуска, % (пусто — всем сразу)",
    forms_pilot: "Пилотная сеть (например 10.1.2.0/24), необязательно",
    forms_replace: "Заменить файлы уже опубликованного релиза этой версии",
    forms_publish: "Опубликовать",
    forms_cancel: "Отмена",
    forms_actions: "Действия",
    forms_pause: "Приостановить",
    forms_resume: "Возобновить",
    forms_withdraw: "Отозвать…",
    forms_withdraw_title: "Отозвать релиз?",
    forms_withdraw_text: "Релиз {version} ({line}) перестанут предлагать и раздавать кассам, его папка уйдёт на полку withdrawn/ рядом с релизами (вернуть — перенести папку обратно). Кассы, уже скачавшие его, останутся как есть.",
    forms_withdraw_confirm: "Да, отозвать",
    forms_published: "Релиз {version} ({line}) опубликован.",
    forms_withdrawn: "Релиз {version} ({line}) отозван.",
    forms_paused: "Выпуск {version} ({line}) приостановлен.",
    forms_resumed: "Выпуск {version} ({line}) возобновлён.",
    forms_refused: "Не выполнено:",
    forms_notice_close: "скрыть",
    // views (branch `views`).
    group: "Группа",
    all_groups: "все группы",
    limited_to: "Вы видите только кассы групп: {groups}.",
    fleet_figures_hidden: "Показатели всего парка (выпуски, запросы, перезагрузки, лицензии) \
                           видны только операторам без ограничения по группам.",
};

pub static LOG: LogText = LogText {
    listening: "принимаю запросы ККТ на {addr}",
    listening_https: "принимаю запросы ККТ по HTTPS на {addr}",
    admin_listening: "панель администратора на {addr}{token}",
    token_required: " (нужен токен)",
    systemd_socket: "использую сокет {name}, переданный systemd ({addr})",
    stopped: "остановлен",
    trigger_files: "после изменения файлов",
    trigger_signal: "по сигналу SIGHUP",
    trigger_settle: "после ожидания",
    trigger_request: "по запросу",
    rescanned: "файлы перечитаны {trigger} за {ms} мс: {nothing}",
    reloaded: "файлы перечитаны {trigger} за {ms} мс: {changes}",
    nothing_changed: "для ККТ ничего не изменилось",
    rescan_failed: "не удалось перечитать файлы ({why}); раздаётся прежнее состояние",
    rescan_failed_outcome: "не удалось перечитать файлы: {why}",
    config_kept_outcome: "конфигурация оставлена прежней: {why}",
    config_loads_again: "конфигурация снова читается",
    config_reloaded: "конфигурация перечитана",
    config_broken: "{why}; сервер работает с прежней конфигурацией",
    listen_changed: "listen изменён на {new}: чтобы применить, перезапустите сервер (пока \
                     используется {old})",
    admin_listen_changed: "admin_listen изменён: чтобы применить, перезапустите сервер",
    admin_settings_changed: "admin_hosts, admin_tls, session_ttl_s или shutdown_timeout_s \
                             изменены: чтобы применить, перезапустите сервер",
    certificate_taken: "TLS-сертификат {file} изменился: новые подключения получают новый",
    certificate_refused: "{why}; раздаётся прежний сертификат",
    events_lost: "события файловой системы потеряны (переполнилась очередь): ещё не \
                  опубликованные файлы теперь ждут unconfirmed_settle_ms тишины, если они не \
                  закреплены",
    license_file_broken: "файл лицензий {file} нельзя использовать ({why}): из него не выдаётся \
                          ни одной лицензии, каждый его заводской номер получает 404, пока файл \
                          не исправлен (исправление подхватывается без перезапуска)",
    line_not_served: "{dir}: линейка {name} не обслуживается: {reason}",
    static_not_served: "статические файлы не раздаются: {why}",
    ambiguous_build: "дата сборки {date} относится к нескольким линейкам ({lines}): ККТ с ней \
                      не получают обновлений, пока её не заявит только один line.yaml или одна \
                      папка релиза",
    sample_one: "релиз {versions} — сгенерированный образец из репозитория",
    sample_many: "релизы {versions} — сгенерированные образцы из репозитория",
    sample_served: "{what}, а не прошивка: раздаётся только потому, что {folder} — папка \
                    образцов исходного кода; для настоящих ККТ укажите в firmware_dir свою папку",
    // operators (branch `operators`).
    operators_reloaded: "операторы изменены: admin-слушатель знает их теперь {count} \
                         (operators и admin_token), со следующего запроса",
    login_failed: "вход в панель отклонён с адреса {peer}: такого токена нет ни у одного \
                   оператора",
    login_done: "вход в панель: {name} ({role}) с адреса {peer}",
};

pub static CONFIG: ConfigText = ConfigText {
    used_flag: "конфигурация {path} (--config)",
    used_env: "конфигурация {path} (KKT_CONFIG)",
    used_found: "конфигурация {path} (найдена без --config)",
    used_none: "файл конфигурации не найден (искал: --config, KKT_CONFIG, {tried})",
    defaults_only: ": только значения по умолчанию и флаги",
    in_working_folder: "{path} в рабочей папке {folder}",
    invalid: "{file}: ошибка в конфигурации: {why}",
    cannot_read: "не удаётся прочитать файл конфигурации {file}: {why}",
    not_regular: "это {kind}, а не обычный файл",
    file_kinds: &[
        ("a symbolic link", "символическая ссылка"),
        ("a folder", "папка"),
        ("a FIFO (named pipe)", "FIFO (именованный канал)"),
        ("a socket", "сокет"),
        ("a device", "устройство"),
        ("not a regular file", "не обычный файл"),
    ],
    too_big: "он больше {kib} КиБ, а таких файлов конфигурации не бывает",
    at_line: "{sentence} (строка {line})",
    not_keys: "конфигурация должна состоять из строк «ключ: значение», например listen: \
               0.0.0.0:8888; получено {got}",
    a_list: "список",
    out_of_bounds: "{key}: ожидается число от {min} до {max}{unit}; получено {value}",
    unit: " ({unit})",
    units: &[
        ("milliseconds", "в миллисекундах"),
        ("seconds", "в секундах"),
        ("days", "в днях"),
    ],
    wrong_form: "{key}: ожидается {form}; получено {given}",
    forms: &[
        ("listen", "адрес вида 0.0.0.0:8888"),
        ("firmware_dir", "папка, например firmware"),
        (
            "licenses",
            "список файлов или папок, например [licenses.yaml, /srv/kkt/licenses/]",
        ),
        (
            "critical_version",
            "дата в виде ггггммдд, например 20250115",
        ),
        ("public_url", "URL вида https://fw.example.ru"),
        ("admin_listen", "адрес вида 127.0.0.1:8889 или null"),
        ("settle_ms", "целое число миллисекунд, например 1000"),
        (
            "unconfirmed_settle_ms",
            "целое число миллисекунд, например 60000",
        ),
        ("watch", "auto, inotify или poll"),
        ("poll_interval_ms", "целое число миллисекунд, например 2000"),
        ("static_files", "true или false"),
        ("access_log", "stderr, off или файл"),
        ("inventory", "sqlite:<файл>, postgres://… или off"),
        ("inventory_retention_days", "целое число дней, например 400"),
        ("stuck_after_s", "целое число секунд, например 129600"),
        ("admin_token", "текст не короче 16 символов"),
        (
            "operators",
            "список операторов, например - {name: \"Иванов\", token_sha256: \"<64 \
             шестнадцатеричные цифры>\", role: admin} (role: viewer, publisher или admin; \
             groups: [...] для viewer)",
        ),
        ("session_ttl_s", "целое число секунд, например 28800"),
        (
            "admin_hosts",
            "список имён хостов, например [kkt-admin.example.ru]",
        ),
        (
            "trusted_proxies",
            "список адресов или сетей, например [127.0.0.1, 10.0.0.0/8]",
        ),
        ("fleet_max_devices", "целое число, например 100000"),
        ("shutdown_timeout_s", "целое число секунд, например 30"),
        (
            "request_timeout_ms",
            "целое число миллисекунд, например 5000",
        ),
        ("keep_alive_s", "целое число секунд, например 5"),
        ("send_timeout_s", "целое число секунд, например 60"),
        ("max_connections", "целое число, например 10000"),
        ("tls_listen", "адрес вида 0.0.0.0:8443"),
        (
            "tls_cert",
            "PEM-файл с цепочкой сертификатов, например \
                      /etc/letsencrypt/live/fw.example.ru/fullchain.pem",
        ),
        (
            "tls_key",
            "PEM-файл с закрытым ключом, например \
                     /etc/letsencrypt/live/fw.example.ru/privkey.pem",
        ),
        ("admin_tls", "true или false"),
        ("language", "ru, en или auto"),
        // groups
        ("groups", "файл, например groups.yaml"),
    ],
    twice: "{key} указан дважды; оставьте один",
    unknown_key: "{field}: {did_you_mean}ключи server.yaml: {keys}",
    unknown_field: "неизвестный ключ `{key}`",
    unknown_field_hidden:
        "неизвестный ключ длиной {count} символов (не показан: он не похож на ключ)",
    did_you_mean: "может быть, {near}? ",
    too_large_here: "{key} {value}: слишком большое значение",
    critical_not_a_date: "critical_version {value} — не настоящая дата в виде ггггммдд",
    tls_needs_files: "для tls_listen и admin_tls нужны tls_cert и tls_key: цепочка сертификатов \
                      и её закрытый ключ в PEM-файлах (например, fullchain.pem и privkey.pem от \
                      certbot)",
    tls_listen_own: "tls_listen должен быть отдельным адресом, не тем же, что listen или \
                     admin_listen",
    inventory_form: "inventory: ожидается sqlite:<файл>, \
                     postgres://пользователь:пароль@хост/база или off; получено {got}",
    firmware_dir_missing_no_config: "папки прошивок (firmware_dir) {dir} нет, и {found}. \
                                     Укажите конфигурацию: --config <файл> (или KKT_CONFIG), \
                                     или запустите команду в её папке",
    firmware_dir_missing: "папки прошивок (firmware_dir) {dir} нет; создайте её (внутри — по \
                           папке на релиз) или укажите в firmware_dir (--firmware-dir, \
                           KKT_FIRMWARE_DIR) нужную папку",
    firmware_dir_is_file: "firmware_dir {dir} — файл, а не папка",
    firmware_dir_unlistable: "не удаётся прочитать содержимое папки прошивок (firmware_dir) \
                              {dir}: {why}",
    admin_token_blank: "admin_token пуст; запишите случайный текст не короче 16 символов или \
                        уберите ключ, чтобы панель администратора работала без токена",
    admin_token_short: "admin_token должен быть не короче 16 символов; в нём {count}",
    admin_token_chars: "в admin_token допустимы только латинские буквы, цифры и знаки \
                        препинания (без пробелов и кириллицы): иначе браузер или curl не смогут \
                        его передать",
    admin_hosts_form: "admin_hosts: {name} — не имя хоста вида kkt-admin.example.ru (буквы, \
                       цифры, точки и дефисы; без порта и схемы)",
    address_form: "{key} {text} — не адрес вида 0.0.0.0:8888 или [::]:8888: {why}",
    public_url_form: "public_url {url}: ожидается адрес вида https://fw.example.ru или \
                      http://10.0.0.5:8888/prefix",
    tls_cert_unreadable: "tls_cert {file}: не удаётся прочитать: {why}",
    tls_cert_not_pem: "tls_cert {file}: это не сертификат в формате PEM: {why}",
    tls_no_certificate: "tls_cert {file}: в нём нет сертификата (ожидается -----BEGIN \
                         CERTIFICATE-----)",
    tls_key_unreadable: "tls_key {file}: не удаётся прочитать: {why}",
    tls_no_key: "tls_key {file}: в нём нет закрытого ключа (ожидается -----BEGIN PRIVATE \
                 KEY----- или ключ RSA/EC): {why}",
    tls_not_their_key: "tls_key {key} не подходит к сертификату из tls_cert {cert}",
    tls_key_refused: "tls_key {file}: {why}",
    tls_set_up: "не удалось настроить TLS: {why}",
    warn_admin_open: "admin_listen {addr} доступен с других машин, а admin_token не задан: \
                      любой, кто до него дотянется, увидит парк (заводские номера, адреса) и \
                      сможет запрашивать перезагрузку. Задайте admin_token (лучше: \
                      KKT_ADMIN_TOKEN в окружении службы) или слушайте на 127.0.0.1",
    warn_trusted_everyone: "trusted_proxies содержит {everyone}, то есть любой адрес: любая ККТ \
                            может назвать в X-Forwarded-For любой адрес и сойти за пилотную \
                            кассу поэтапного обновления или за другой магазин. Перечислите \
                            только адреса своих прокси",
    // operators (branch `operators`).
    operators_too_many: "в operators {count} записей; допускается не больше {max}",
    operators_entry: "operators, запись {number}{name}: {problem}",
    operator_not_keys: "ожидаются ключи со значениями, например {name: \"Иванов\", \
                        token_sha256: \"<64 шестнадцатеричные цифры>\", role: viewer}; получено \
                        {given}",
    operator_unknown_key: "неизвестный ключ {key}; у оператора есть ключи name, token_sha256, \
                           role и groups",
    operator_plain_token: "не пишите сам токен в server.yaml: пишите token_sha256, его SHA-256 \
                           (kkt-update-server token new печатает готовую строку)",
    operator_missing: "нет ключа {key}; оператору нужны name, token_sha256 и role",
    operator_not_text: "{key}: ожидается текст; получено {given}",
    operator_name_empty: "name пуст; напишите от 1 до {max} символов",
    operator_name_long: "в name {count} символов; допускается не больше {max}",
    operator_name_control: "в name есть управляющие символы (перевод строки, табуляция, \
                            escape); напишите имя в одну строку",
    operator_name_twice: "такое же имя у записи {other}; у каждого оператора должно быть своё \
                          имя (его записывает журнал действий)",
    operator_hash_form: "token_sha256 должен быть из 64 шестнадцатеричных цифр: SHA-256 \
                         токена, как его печатает kkt-update-server token new; получено \
                         символов: {count} (не показано: это может быть сам токен)",
    operator_hash_twice: "такой же token_sha256 у записи {other}: двух операторов с одним \
                          токеном не различить; дайте каждому свой токен",
    operator_role: "role: ожидается viewer, publisher или admin; получено {given}",
    operator_groups_not_viewer: "groups ограничивает только роль viewer, а у этого оператора \
                                 роль {role}, которая видит все устройства; уберите groups или \
                                 поставьте role: viewer",
    operator_groups_form: "groups: ожидается список названий групп, например [\"ООО Ромашка\"]; \
                           получено {given}",
    operator_groups_empty: "groups пуст: такой viewer не увидит ничего; назовите хотя бы одну \
                            группу или уберите groups, чтобы показывать все устройства",
    operator_groups_many: "в groups {count} групп; допускается не больше {max}",
    operator_group_name: "groups: {given} не название группы (от 1 до {max} символов, без \
                          управляющих символов)",
    operator_admin_name: "имя admin занято оператором, которого задаёт admin_token; выберите \
                          другое имя или уберите admin_token",
    operator_admin_hash: "token_sha256 совпадает с SHA-256 от admin_token: один токен не может \
                          быть двумя операторами; дайте этому оператору свой токен",
    // attack26
    operator_empty_hash:
        "token_sha256 — это SHA-256 пустого токена (так печатает `printf %s \"$TOKEN\" | \
                          sha256sum`, когда переменная не задана): войти смог бы любой с пустым \
                          паролем; вставьте строку, которую печатает `token new`",
};

pub static SCAN: ScanText = ScanText {
    cannot_list_firmware: "не удаётся прочитать список папки с прошивками: {why}",
    not_a_date_folder: "пропущена: имя — не настоящая дата (ггггммдд)",
    still_serving_before: "{reason}; по-прежнему раздаётся версия, проверенная раньше (чтобы \
                           отозвать её, удалите папку)",
    being_written: "{name} ещё записывается",
    changed_while_read: "{name} изменился, пока его читали",
    cannot_read_folder: "не удаётся прочитать папку: {why}",
    folder_is_link: "это символическая ссылка; скопируйте саму папку",
    not_a_folder: "это не папка",
    file_missing: "нет файла {name}",
    cannot_read_file: "не удаётся прочитать {name}: {why}",
    file_not_regular: "{name} — не обычный файл",
    file_of_kind: "{name} — {kind}, а не обычный файл",
    file_empty: "{name} пуст",
    firmware_too_large: "{name} больше {mib} МиБ — намного больше, чем бывает прошивка или её \
                         описание; тот ли это файл?",
    in_file: "{name}: {why}",
    changed_recently: "изменена менее settle_ms назад",
    not_seen_closed: "{names}: наблюдатель не видел, что запись закончена; ждём тишины \
                      unconfirmed_settle_ms",
    and: " и ",
    sha_mismatch: "{name} не совпадает со своим sha256 в meta.yaml (указан {pinned}, у файла \
                   {has})",
    internal_two_files: "внутренняя ошибка: ожидались два файла прошивки",
    sample_refused: "{name} — сгенерированный образец из репозитория (начинается с \
                     «KKT-SAMPLE-FIRMWARE»), а не прошивка: он раздаётся только из папки \
                     firmware исходников и никогда — кассам установленного сервера; удалите эту \
                     папку и опубликуйте прошивку производителя",
    checked_again_in: "{reason}; проверка снова через {ms} мс",
    not_utf8: "{what} — не текст UTF-8 (строка {line}; кириллица сохранена в Windows-1251?): \
               сохраните файл в UTF-8",
    meta_unknown_file: "sha256: неизвестный файл {name} (ожидаются upd_app.bin, \
                        upd_app_for_old_frs.bin)",
    meta_bad_pin: "sha256 файла {file}: {pin} — не 64 шестнадцатеричные цифры",
    line_name_refused: "имя папки линейки может содержать только латинские буквы, цифры, «.», \
                        «-» и «_» (оно становится частью адресов загрузки)",
    line_changed_recently: "line.yaml изменён менее settle_ms назад",
    line_still_using: "{reason}; по-прежнему действует line.yaml, проверенный раньше",
    line_yaml_too_large: "line.yaml больше {mib} МиБ, а в нём всего несколько строк",
    line_not_a_date: "{key}: {shown} — не настоящая дата (ожидается ггггммдд, например 20221228)",
    license_unknown_type: "неизвестный тип файла лицензий (ожидается .slf, .yaml или .yml)",
    license_not_regular: "это не обычный файл",
    license_cannot_read: "не удаётся прочитать: {why}",
    license_unreadable: "не читается",
    license_missing: "не существует: лицензий из него нет (файл или папка из списка licenses:)",
    license_too_large: "он больше {mib} МиБ — намного больше лицензий любого парка; тот ли это \
                        файл?",
    license_still_serving: "{reason}; по-прежнему раздаются лицензии, загруженные раньше: {count}",
    serial_repeats: "заводской номер {serial} повторяется в строке {line}; действует эта строка",
    more_repeats: "ещё повторов заводских номеров: {more}",
    cannot_list_folder: "не удаётся прочитать список папки: {why}",
    serials_also_in: "заводских номеров, которые есть и в {file}: {count} (первый {first}); \
                      действует более поздний файл",
    slf_not_utf8: "не текст UTF-8",
    slf_fields: "ожидаются 3 поля через табуляцию (заводской номер, лицензии, подпись), найдено \
                 {found}",
    slf_serial: "заводской номер {serial} — не 16 цифр",
    hex_length: "ожидается {len} шестнадцатеричных цифр, найдено символов: {found}",
    hex_not_hex: "{found} в позиции {position} — не шестнадцатеричная цифра",
    yaml_invalid: "это не корректный YAML: {why}",
    yaml_not_mapping: "ожидается словарь заводских номеров, а здесь {kind}",
    yaml_entry: "заводской номер {key}: {why}",
    entry_serial: "заводской номер должен состоять из 16 цифр (возьмите его в кавычки: \
                   \"0000000000012345\")",
    entry_not_mapping: "ожидаются `licenses` и `signature`, а здесь {kind}",
    entry_unknown_key: "неизвестный ключ {name} (ожидаются `licenses` и `signature`)",
    entry_not_text: "{name}: ожидается строка шестнадцатеричных цифр",
    entry_missing: "нет `{name}`",
    value_kinds: &[
        ("nothing", "пусто"),
        ("a boolean", "логическое значение"),
        ("a number", "число"),
        ("a string", "строка"),
        ("a list", "список"),
        ("a mapping", "словарь"),
        ("a tagged value", "значение с тегом"),
    ],
    did_you_mean_key: "; возможно, имелось в виду `{key}`?",
    yaml_unknown_key: "неизвестный ключ `{key}` (допустимы: {keys})",
    fw_empty: "firmware_dir пуст; укажите отдельную папку, в которой только папки релизов, \
               например firmware или /var/lib/kkt-update-server/firmware",
    fw_cannot_open: "firmware_dir {dir} не открывается: {why}",
    fw_system_folder: "firmware_dir {dir} — системная папка: любой её файл смогла бы скачать \
                       любая касса или кто угодно в сети. Укажите в firmware_dir отдельную \
                       папку, в которой только папки релизов, например \
                       /var/lib/kkt-update-server/firmware",
    fw_holds_private: "в firmware_dir {dir} лежит {what} {path}: кассы смогли бы это скачать. \
                       Держите firmware_dir отдельной папкой, в которой только папки релизов \
                       (например firmware/ рядом с server.yaml), а собственные файлы сервера — \
                       вне её",
    private_files: &[
        ("the configuration file", "файл конфигурации"),
        ("the license folder", "папка лицензий"),
        ("the license file", "файл лицензий"),
        ("the TLS certificate", "сертификат TLS"),
        ("the TLS private key", "закрытый ключ TLS"),
        ("the inventory", "база учёта парка"),
        ("the access log", "журнал запросов"),
        // groups
        ("the groups file", "файл групп"),
    ],
    // hardening
    yaml_too_deep: "строка {line}: списки или словари в скобках ([ ] или { }) вложены глубже \
                    {max} уровней; файл отклонён без чтения (настоящему хватает двух-трёх \
                    уровней)",
    yaml_too_deep_indented: "строка {line}: списки или словари вложены отступами глубже {max} \
                             уровней; файл отклонён без чтения (настоящему хватает нескольких \
                             уровней)",
    license_yaml_too_large: "файл лицензий YAML может быть не больше {mib} МиБ (разбор YAML \
                             держит его в памяти целиком, многократно); сложите лицензии в файлы \
                             .slf — они читаются построчно",
};

pub static ROLLOUT: RolloutText = RolloutText {
    percent: "rollout.percent: {value} — не целое число от 0 до 100",
    too_large_at_most: "rollout.{key}: {value} — слишком много (не больше {max})",
    window: "rollout.window: {value} — не промежуток времени (ожидается вида \"22:00-06:00\", \
             по местному времени сервера)",
    empty_window: "rollout.window: {value} начинается там же, где кончается; уберите window, \
                   чтобы допускать кассы в любой час",
    halt_percent: "rollout.halt_when_stuck_percent: {value} — не процент от 0 до 100",
    net_not_address: "{key}: {entry} — не IP-адрес и не сеть (ожидается вида 192.0.2.15 или \
                      10.20.0.0/16)",
    net_bad_prefix: "{key}: неверный префикс в {entry} (после / ожидается число от 0 до {max})",
    net_too_many: "{key}: больше {max} записей",
    stage_with_percent: "rollout: stages и percent вместе (stages заменяет percent; укажите \
                         percent у каждого этапа)",
    stage_count: "rollout.stages: этапов {count} (ожидается от 1 до {max}, каждый вида \
                  {percent: 5, soak: 24h, min_updated: 20, success_percent: 95})",
    stage_missing_percent: "rollout.stages, этап {n}: нет percent (он нужен каждому этапу — \
                            целое число от 0 до 100)",
    stage_percent: "rollout.stages, этап {n}: percent {value} — не целое число от 0 до 100",
    stage_lower: "rollout.stages, этап {n}: percent {value} меньше, чем {before} у этапа \
                  {previous} (каждый этап допускает не меньшую долю, чем предыдущий)",
    stage_soak: "rollout.stages, этап {n}: soak {value} — не длительность (ожидается целое \
                 число и единица, например 30s, 15m, 24h или 7d, не больше 90d)",
    stage_min_updated: "rollout.stages, этап {n}: min_updated {value} — слишком много (не \
                        больше {max})",
    stage_success: "rollout.stages, этап {n}: success_percent {value} — не процент от 0 до 100",
    rate_growth: "rollout.rate_growth: {value} — не множитель от 1 до {max} (например 2 или \
                  1.5)",
    limit_below_cap: "rollout.max_new_per_hour_limit: {limit} меньше max_new_per_hour {cap} \
                      (предел ограничивает, до чего растёт лимит в час)",
    forced: "rollout.stage: {value} — не этап этого поэтапного обновления (ожидается от 1 до \
             {count})",
    needs: "rollout.{key}: имеет смысл только вместе с {needs}",
    needs_what: &[
        ("stages", "stages"),
        (
            "max_new_per_hour (the cap it grows)",
            "max_new_per_hour (лимитом в час, который он увеличивает)",
        ),
        (
            "max_new_per_hour (the cap it bounds)",
            "max_new_per_hour (лимитом в час, который он ограничивает)",
        ),
    ],
};

pub static WATCH: WatchText = WatchText {
    halted_restored: "поэтапное обновление до {version} (линейка {line}) остановлено: {reason}; \
                      чтобы продолжить, измените rollout в его meta.yaml",
    halted: "поэтапное обновление до {version} (линейка {line}) остановлено: {reason}; новым \
             кассам оно не предлагается, пока не изменён rollout в его meta.yaml",
    resumed: "поэтапное обновление до {version} (линейка {line}) продолжено",
    stepped: "поэтапное обновление до {version} (линейка {line}): {what}: {detail}",
    advanced: "следующий этап",
    stage_forced: "этап задан вручную",
    step_advance: "этап {from} ({from_percent}%) → этап {to} ({to_percent}%): {figures}, после \
                   выдержки {soak}{cap}",
    step_forced_from: "этап {stage} ({percent}%) задан строкой stage: {forced} в meta.yaml (был \
                       этап {from}){cap}",
    step_forced: "этап {stage} ({percent}%) задан строкой stage: {forced} в meta.yaml{cap}",
    step_cap: "; не больше {cap} новых касс в час",
    halt_reason: "зависли {stuck} из {finished} касс, скачавших его ({share}, больше \
                  halt_when_stuck_percent {threshold})",
    admissions_restored: "учёт парка: восстановлено допусков поэтапного обновления: {count}",
    admissions_unreadable: "учёт парка: не удаётся прочитать допуски поэтапного обновления: {why}",
    watch_unreadable: "наблюдение за поэтапными обновлениями: не удаётся прочитать учёт парка: \
                       {why}; повторим",
    writer_not_started: "не удаётся запустить запись учёта парка: {why}",
    writer_late: "запись учёта парка не закончилась вовремя; последние записи потеряны",
    records_lost: "учёт парка: до остановки не удалось записать записей: {count}",
    pruned: "учёт парка: удалено строк старше {days} дн.: {count}",
    cannot_prune: "учёт парка: не удаётся удалить старые строки: {why}",
    cannot_write: "учёт парка {store}: {why}; кассы по-прежнему получают ответы, записи ждут и \
                   будут записаны повторно",
    writing_again: "учёт парка {store}: запись снова идёт",
    unreadable_build_date: "учёт парка: {why}; считается неизвестным и перезаписывается",
    pg_sslmode_form: "inventory: sslmode={value} не распознан; sslmode может быть {forms}",
    pg_twice: "inventory: {key} указан в адресе PostgreSQL дважды",
    pg_rootcert_empty: "inventory: sslrootcert пуст; он должен называть файл сертификатов УЦ \
                        (PEM)",
    pg_unsupported: "inventory: {key} в адресе PostgreSQL не поддерживается (клиентских \
                     сертификатов нет); из ключей TLS понимаются sslmode и sslrootcert",
    pg_needs_rootcert: "inventory: sslmode={mode} требует sslrootcert=<файл сертификатов УЦ \
                        (PEM), подписавшего сертификат сервера>",
    pg_disable_with_rootcert: "inventory: указан sslrootcert, но sslmode=disable не использует \
                               TLS; уберите одно из двух",
    pg_not_understood: "inventory: адрес PostgreSQL не распознан: {why}",
    pg_rootcert_not_file: "inventory: sslrootcert {file} — не обычный файл; это должен быть файл \
                           сертификатов УЦ (PEM)",
    pg_rootcert_unreadable: "inventory: sslrootcert {file} не читается: {why}",
    pg_rootcert_too_large: "inventory: sslrootcert {file} больше {mib} МиБ; это должен быть файл \
                            сертификатов УЦ (PEM)",
    pg_rootcert_not_pem: "inventory: sslrootcert {file} — не корректный PEM: {why}",
    pg_rootcert_empty_file: "inventory: в sslrootcert {file} нет ни одного сертификата; в нём \
                             должны быть сертификаты УЦ (PEM, -----BEGIN CERTIFICATE-----)",
    halts_unreadable: "учёт парка: не удаётся прочитать остановки поэтапных обновлений: {why}",
    stages_unreadable: "учёт парка: не удаётся прочитать этапы поэтапных обновлений: {why}",
    stages_failing: "наблюдение за поэтапными обновлениями: не удаётся сделать шаг этапов: {why}; \
                     каждый этап стоит, где стоял, пока это не исправлено",
    // audit: the audit trail (branch audit).
    audit_appended: "аудит: запись {seq} ({action} {subject}, кто: {actor}: {result}); вершина {head}",
    audit_pruned: "аудит: удалены записи до {first} (старше {days} дн.); контрольная точка — запись {seq}, хранит {hash}",
    audit_failing: "аудит: не удаётся дописать журнал (ждут записей: {count}, повтор): {why}",
};

// groups: device groups (`groups.yaml`).
pub static GROUPS: super::groups::GroupsText = super::groups::GroupsText {
    not_a_list: "ожидается список групп (каждая начинается с \"- name:\"), а здесь {kind}",
    yaml_invalid: "это не корректный YAML: {why}",
    too_large: "больше {mib} МиБ; в файле групп только имена, сети и заводские номера",
    too_many_groups: "групп {count}, а допустимо не больше {max}",
    missing: "файла нет",
    not_regular: "это не обычный файл",
    cannot_read: "не удаётся прочитать: {why}",
    still_using: "{reason}; пока действуют {count} групп, загруженных раньше",
    group_number: "группа {number}",
    group_named: "группа {name}",
    entry_not_mapping: "{group}: ожидаются name, networks, serials и time_zone, а здесь {kind}",
    unknown_key: "{group}: неизвестный ключ `{key}` (допустимы: {keys}){hint}",
    wrong_kind: "{group}: {key}: ожидается {form}, а здесь {kind}",
    missing_name: "{group}: нет ключа `name` (ожидается имя, например \"ООО Ромашка\")",
    name_too_long: "{group}: имя длиннее {max} знаков",
    name_control: "{group}: в имени перевод строки, табуляция или другой управляющий знак \
                   либо знак направления текста; ожидается одна строка простого текста",
    name_repeated: "{group}: имя уже занято ({first}); имена должны различаться без учёта \
                    регистра букв",
    networks_key: "{group}: networks",
    too_many_networks: "{group}: networks: записей {count}, а допустимо не больше {max}",
    too_many_serials: "{group}: serials: записей {count}, а допустимо не больше {max}",
    bad_serial: "{group}: serials: {value} не заводской номер (ожидается 16 цифр в кавычках, \
                 например \"0000000000012345\")",
    bad_time_zone: "{group}: time_zone: {value} не часовой пояс IANA (ожидается имя вроде \
                    Europe/Moscow или Asia/Vladivostok){hint}",
    inverted_offset: "{group}: time_zone: {value} означает {utc}: в именах Etc/GMT знак \
                      обратный (Etc/GMT+3 — на три часа позади UTC, а не московское время); \
                      укажите пояс города магазинов, например Europe/Moscow или \
                      Asia/Vladivostok",
    forms: &[
        ("name", "имя в кавычках, например \"ООО Ромашка\""),
        (
            "networks",
            "список адресов или сетей, например [10.1.0.0/16, 192.0.2.15]",
        ),
        (
            "serials",
            "список заводских номеров, например [\"0000000000012345\"]",
        ),
        ("time_zone", "часовой пояс IANA, например Europe/Moscow"),
        (
            "serial",
            "16 цифр в кавычках, например \"0000000000012345\"",
        ),
        ("network", "адрес или сеть, например 10.1.0.0/16"),
    ],
    loaded: "группы: {count} в {file}{names}",
    none_loaded: "группы: из {file} не загружено ни одной",
    changed: "теперь групп: {count}{names}",
    pilot_group_unknown: "rollout.pilot_groups: группы с именем {name} нет (известны: \
                          {known}){hint}; она никого не допускает, пока такой группы нет",
    pilot_groups_without_file: "rollout.pilot_groups: названы группы, но файл групп не задан \
                                (`groups:` в server.yaml); никто не допускается по группам",
    known_none: "нет",
    stale_kept: "Пока действуют группы, загруженные до ошибки:",
    stale_none: "Пока файл не загрузится, групп нет: каждая касса вне групп (окна обновлений по \
                 времени сервера, пилотных групп нет).",
    kept_outside_window: "Новые кассы группы {group} допускаются только в окне {window} (время \
                          {zone}), а там сейчас {time}.",
    // views (branch `views`).
    operator_group_unknown: "operators: оператор {operator} ограничен группой {name}, а в \
                             файле групп её нет (известны: {known}){hint}; он не видит ни одной \
                             кассы этой группы, пока имя не совпадёт",
    operator_groups_without_file: "operators: оператор {operator} ограничен группами, но файл \
                                   групп не задан (`groups:` в server.yaml); он не видит ни \
                                   одной кассы",
};
