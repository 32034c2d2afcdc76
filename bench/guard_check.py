"""Does each row of docs/reliability.md's probe table have a test that fails without its fix?

    flock /tmp/factcheck-cpu.lock .venv/bin/python bench/guard_check.py [--only 9 13]

For each fix, on a copy of this checkout: undo it (a small text edit, found by its code text
anywhere under pipeline/, so it survives modules moving between packages), run the row's
tests, expect them to FAIL, and put the code back. First the same tests run on the
unchanged copy and must pass. Prints one line per sabotage and exits 1 if any sabotage
leaves its tests green (a guard that guards nothing) or the code text is no longer found
(the fix moved or changed: update the entry here).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sabotage:
    rows: str  # probe table rows (docs/reliability.md)
    what: str
    old: str  # code text of the fix, unique under pipeline/
    new: str
    tests: tuple[str, ...]


ISOLATION = "tests/run/test_isolation.py::"
GUARD = "tests/review/test_guard.py::"
SABOTAGES = [
    Sabotage("1", "a symlink loop is skipped silently",
             "            if is_article and on_unreadable is not None:\n                on_unreadable(entry.path,",
             "            if False:\n                on_unreadable(entry.path,",
             (ISOLATION + "test_a_symlink_loop_is_reported_and_every_other_article_is_analysed",)),
    Sabotage("2", "a dangling symlink is ignored",
             'raise FileNotFoundError(errno.ENOENT, "dangling symbolic link")', "return",
             (ISOLATION + "test_a_symlink_loop_is_reported_and_every_other_article_is_analysed",)),
    Sabotage("3", "RecursionError of the JSON decoder not caught by the reader",
             "    except RecursionError:  # the decoder recurses per level", "    except ZeroDivisionError:  #",
             (ISOLATION + "test_json_nested_past_the_recursion_limit_fails_only_its_file",)),
    Sabotage("3-5", "only InputError caught per file: any other exception stops the run",
             "        except Exception as error:  # noqa: BLE001 - one file's failure",
             "        except ZeroDivisionError as error:  #",
             (ISOLATION + "test_json_nested_past_the_recursion_limit_fails_only_its_file",
              ISOLATION + "test_an_html_file_without_the_html_reader_fails_only_its_file",
              ISOLATION + "test_a_reader_that_crashes_fails_only_its_file")),
    Sabotage("4", "a missing HTML reader is not an InputError",
             "    except ImportError as error:\n        raise InputError(f\"{path}: cannot read HTML",
             "    except ZeroDivisionError as error:\n        raise InputError(f\"{path}: cannot read HTML",
             (ISOLATION + "test_an_html_file_without_the_html_reader_fails_only_its_file",)),
    Sabotage("6", "missing input paths are not failures",
             "        for line in missing:\n", "        for line in []:\n",
             (ISOLATION + "test_a_missing_input_beside_good_ones_exits_3",)),
    Sabotage("7", "an endpoint that serves nothing fails each article instead of the run",
             "        except EndpointError as error:  # not this article's failure: the whole run's\n"
             "            self._stop(error)",
             "        except EndpointError as error:  # not this article's failure: the whole run's\n"
             "            self._failed(article.meta.source, article.meta.id, 'llm', str(error))",
             (ISOLATION + "test_an_endpoint_nobody_listens_on_stops_the_run_with_one_line",
              ISOLATION + "test_a_rejected_key_stops_the_run_with_one_line_and_a_true_hint")),
    Sabotage("8", "the 401 hint names a flag that does not exist",
             "check OPENAI_API_KEY (or api_key in the config file)", "pass --api-key",
             (ISOLATION + "test_a_rejected_key_stops_the_run_with_one_line_and_a_true_hint",)),
    Sabotage("9", "error rows' reasons not redacted",
             "        reason = redact(reason)  # exception text", "        reason = reason  #",
             ("tests/llm/test_redaction.py::test_a_server_echoing_the_authorization_header_leaks_no_key",
              "tests/llm/test_redaction.py::test_a_token_in_an_input_path_is_masked_in_stderr_and_errors_jsonl")),
    Sabotage("9", "error rows' sources not redacted",
             "        source = redact(source)  #", "        source = source  #",
             ("tests/llm/test_redaction.py::test_a_token_in_an_input_path_is_masked_in_stderr_and_errors_jsonl",)),
    Sabotage("9, 11", "stderr not redacted",
             "        self._target.write(redact(text))", "        self._target.write(text)",
             ("tests/llm/test_redaction.py::test_a_server_echoing_the_authorization_header_leaks_no_key",
              "tests/llm/test_redaction.py::test_a_whole_run_failure_message_is_redacted_too",
              "tests/llm/test_redaction.py::test_a_token_in_an_input_path_is_masked_in_stderr_and_errors_jsonl")),
    Sabotage("10", "run.json not redacted",
             "            redact_data({  # the config holds the base URL", "            ({  #",
             ("tests/llm/test_redaction.py::test_a_password_in_the_base_url_is_stored_nowhere",)),
    Sabotage("12", "any URL scheme becomes a link",
             "    return url if parts.scheme.lower() in WEB_SCHEMES and parts.netloc else None", "    return url",
             ("tests/review/test_links.py",)),
    Sabotage("12", "control characters inside a scheme are not refused",
             "    if not url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):",
             "    if not url:",
             ("tests/review/test_links.py::test_a_web_url_with_whitespace_or_control_characters_is_not_a_link",)),
    Sabotage("13", "any Host accepted (DNS rebinding)",
             "        if not is_loopback(parts.hostname) or (self.port is not None and port != self.port):",
             "        if False:",
             (GUARD + "test_another_host_is_refused_dns_rebinding",)),
    Sabotage("13", "another port on loopback accepted",
             "        if not is_loopback(parts.hostname) or (self.port is not None and port != self.port):",
             "        if not is_loopback(parts.hostname):",
             (GUARD + "test_another_host_is_refused_dns_rebinding",)),
    Sabotage("14", "an Origin over another scheme accepted",
             '            if seen.scheme != "http" or seen.netloc != host:', "            if seen.netloc != host:",
             (GUARD + "test_a_post_from_another_origin_or_scheme_is_refused",)),
    Sabotage("15", "no cap on a declared Content-Length",
             '        if declared.isdigit() and int(declared) > self.max_body:\n            return b"", too_large',
             '        if False:\n            return b"", too_large',
             (GUARD + "test_a_declared_body_over_the_cap_is_refused_before_it_is_sent",)),
    Sabotage("15", "no cap on a chunked body",
             '            if size > self.max_body:\n                return b"", too_large',
             '            if False:\n                return b"", too_large',
             (GUARD + "test_a_body_over_the_cap_is_413_declared_or_chunked",)),
    Sabotage("16", "deeply nested JSON reaches the app",
             "            except RecursionError:\n                return body, (400",
             "            except ZeroDivisionError:\n                return body, (400",
             (GUARD + "test_deeply_nested_json_is_400_not_500",)),
    Sabotage("17", "error lines printed as Rich markup",
             '    err.print(Text.assemble(("error:", "red"), " ", printable(message)), soft_wrap=True)',
             '    err.print(f"[red]error:[/red] {printable(message)}", soft_wrap=True)',
             ("tests/cli/test_messages.py",)),
    Sabotage("19", "unknown config keys ignored",
             'model_config = SettingsConfigDict(env_prefix="FACTCHECK_", extra="forbid"',
             'model_config = SettingsConfigDict(env_prefix="FACTCHECK_", extra="ignore"',
             ("tests/test_settings.py",)),
    Sabotage("20", "a missing FACTCHECK_CONFIG file ignored",
             "    if named is not None and not Path(named).is_file():", "    if False:",
             ("tests/test_settings.py::test_config_errors_are_one_line_from_the_cli",)),
    Sabotage("21", "no max_chars cap",
             "            if len(article.text) > self.settings.max_chars:", "            if False:",
             (ISOLATION + "test_an_input_over_max_chars_fails_with_an_estimate_of_calls_and_cost",)),
    Sabotage("22", "a corrupt cache raises a traceback",
             "        except (sqlite3.Error, OSError) as error:  # a damaged database file",
             "        except ZeroDivisionError as error:  #",
             ("tests/llm/test_cache.py::test_a_corrupt_cache_is_one_line_that_says_how_to_move_it_aside",)),
    Sabotage("23", "an answer without choices is cached",
             ' and bool(data["choices"])', "",
             ("tests/llm/test_failed_attempts.py::test_an_answer_without_choices_is_a_clear_error_and_is_not_cached",)),
    Sabotage("23", "an answer without choices is an internal error",
             "            if _without_choices(error.last_completion):", "            if False:",
             ("tests/llm/test_failed_attempts.py::test_an_answer_without_choices_is_a_clear_error_and_is_not_cached",)),
    Sabotage("24", "timeouts and drops not counted",
             "        except httpx2.TransportError:  # a timeout or a dropped connection: retried, not billed\n"
             "            tally.stage(stage).failed_attempts += 1",
             "        except httpx2.TransportError:  #\n            pass",
             ("tests/llm/test_failed_attempts.py::test_timeouts_and_dropped_connections_count_as_failed_attempts",)),
    Sabotage("25", "a 429 does not halve the limit",
             "                self.limit = max(self.minimum, self.limit // 2)", "                pass",
             ("tests/llm/test_cache.py::test_limiter_halves_on_429_without_pausing_the_others_and_recovers",)),
    Sabotage("26", "the limit halves down to one slot",
             "        self.minimum = max(1, min(minimum, self.maximum))", "        self.minimum = 1",
             ("tests/llm/test_backoff.py::test_a_hung_request_cannot_hold_the_last_slot",)),
    Sabotage("27", "a damaged result counts as done",
             "                if load_result(earlier) is not None:", "                if earlier.exists():",
             (ISOLATION + "test_a_damaged_result_file_is_reported_and_the_article_redone",)),
    Sabotage("27", "a damaged result redone silently",
             "                if earlier.exists():  # truncated or corrupt", "                if False:  #",
             (ISOLATION + "test_a_damaged_result_file_is_reported_and_the_article_redone",)),
    Sabotage("28", "gold spans past the text accepted",
             "    if not all(0 <= s <= e <= len(text) for s, e in span):", "    if False:",
             ("tests/eval/test_evaluate.py::test_gold_spans_past_the_text_and_files_outside_the_dataset_are_refused",)),
    Sabotage("29", "text_file outside the dataset read",
             "        if not path.resolve().is_relative_to(folder.resolve()):", "        if False:",
             ("tests/eval/test_evaluate.py::test_gold_spans_past_the_text_and_files_outside_the_dataset_are_refused",)),
    Sabotage("34", "a withheld sentence can be a claim's evidence",
             "        numbers = sorted(cited - withheld)", "        numbers = sorted(cited)",
             ("tests/stages/test_claims.py::test_a_withheld_sentence_never_becomes_a_claim",)),
]


def pytest(work: Path, tests: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)


def locate(work: Path, old: str) -> Path | None:
    found = [p for p in (work / "pipeline").rglob("*.py") if old in p.read_text(encoding="utf-8")]
    if len(found) != 1 or found[0].read_text(encoding="utf-8").count(old) != 1:
        return None
    return found[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="rows to check (e.g. 9 13)")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    chosen = [s for s in SABOTAGES
              if not args.only or any(r.strip() in args.only for r in s.rows.replace("-", ",").split(","))]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "checkout"
        shutil.copytree(root, work, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "out"))
        tests = tuple(dict.fromkeys(t for s in chosen for t in s.tests))
        baseline = pytest(work, tests)
        if baseline.returncode != 0:
            sys.exit(f"the tests fail without any sabotage:\n{baseline.stdout[-3000:]}")
        for s in chosen:
            path = locate(work, s.old)
            if path is None:
                print(f"row {s.rows:6} {s.what}: CODE NOT FOUND (once) under pipeline/; update bench/guard_check.py")
                bad += 1
                continue
            original = path.read_text(encoding="utf-8")
            path.write_text(original.replace(s.old, s.new), encoding="utf-8")
            try:
                done = pytest(work, s.tests)
            finally:
                path.write_text(original, encoding="utf-8")
            failed = done.returncode != 0
            bad += not failed
            summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-200:]
            print(f"row {s.rows:6} {s.what}: {'caught' if failed else 'NOT CAUGHT'} ({summary})", flush=True)
    print(f"{len(chosen) - bad}/{len(chosen)} sabotages caught")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
