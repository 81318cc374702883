"""A dossier's README.md (`verify --dossier`): the exact commands that check it offline,
step by step, in English and in Chinese."""

from __future__ import annotations

import shlex

from releasegate.ledger.events import PATCHES
from releasegate.trust.dossier_checks import evidence_bindings, proxy_evidence, ssh_command
from releasegate.trust.dossier_record import Record

README_EN = """\
# Audit dossier of {patch}: how to check it

This folder is the complete record of patch {patch} in the releasegate ledger
`{ledger}`, as committed at `{head}`, written at {written} (UTC). Everything in it
can be checked offline, without releasegate, from a shell in this folder, with
`sha256sum` (GNU coreutils) and `ssh-keygen` (OpenSSH, one that knows `-Y verify` and
`-O verify-time`). `sh verify.sh` runs every check below and ends with
`ALL CHECKS PASSED` (exit status 0), or names each check that failed (exit status 1).
The account of the patch is in `summary.en.md` (Chinese: `summary.zh-CN.md`).

## What is here

- `summary.en.md`, `summary.zh-CN.md`: the account of the patch, each event, each
  signature, each promotion and the audit's findings
- `events/`: the patch's event files, byte for byte as in the ledger
- `evidence/`: the raw JUnit files, named by their sha256, their stored summaries, and
  the evidence of sign-offs recorded on an approver's behalf
- `signatures/`: each signed event's statement (`.json`, canonical JSON) and its SSH
  signature (`.sig`)
- `patch.yaml`: the patch's manifest, as submitted
- `allowed_signers`: the public keys of everyone who signed, with namespaces and
  validity windows as releasegate checks them
- `revoked_keys`: the keys the ledger revoked; no signature by them counts
- `verdicts.json`: each promotion's recorded verdict, and the verdict of its gate
  replayed as of then
- `verify.sh`: runs all of the checks below (POSIX sh)
- `SHA256SUMS`: the sha256 of every other file

## 1. Every file is as it was written

```sh
sha256sum -c SHA256SUMS
```

Every line must end in `OK`. SHA256SUMS cannot name its own sha256: releasegate
printed it when it wrote the dossier. Ask whoever handed the dossier over for it, and
compare with `sha256sum SHA256SUMS`.

## 2. Each signature is good

One command per signed statement. Each must print
`Good "<namespace>" signature for <person> with <key type> key <fingerprint>` and exit 0:

```sh
{ssh_commands}
```

`-I` is the person the event names: only that person's keys in `allowed_signers`
count. `-n` is the namespace of the statement's kind (`signoff.v1@releasegate`,
`checklist.v1@releasegate`, `waiver.v1@releasegate`), so a signature made for one
purpose never counts for another. `-r revoked_keys` refuses revoked keys, even for old
signatures. `-O verify-time=` checks each key's `valid-after`/`valid-before` window at
the time the event records, as releasegate does, not today.

## 3. Each statement is the one its event records

Each signed event records the sha256 of its statement and of its signature
(`statement_sha256`, `signature_sha256`); the two lines each pair of commands prints
must show the same hashes:

```sh
{binding_commands}
```

The statement (`signatures/*.json`, canonical JSON) names the ledger (`{ledger}`,
the ledger's first commit), the patch and its digest, the environment, the signer, the
time and what was decided; each must be what its event says. `verify.sh` compares the
ledger, patch, digest, environment, signer and time (and a sign-off's role and
decision, a checklist's template) with the event's own lines, for example:

```sh
{names_example}
```

## 4. The hash chain

Each event's `prev` is the sha256 of the event file before it; the first event's
`prev` is `null`. Each line below prints a hash and then a `prev:` line that must show
the same hash:

```sh
{chain_commands}
```

No later event names the newest one. To check it, compare it with the ledger itself:
`git -C <ledger> show {head}:{folder}/{newest} | sha256sum` must print the sha256 that
`sha256sum {newest}` prints here.

## 5. The evidence

Each raw JUnit file is named by its sha256, which its `tests` event records as
`sha256`; its stored summary's sha256 is recorded as `summary_sha256`. The evidence of
a sign-off recorded on the approver's behalf (an e-mail, a PDF, a screenshot) is named
by its sha256 too, which the sign-off records as `evidence_sha256`:

```sh
{evidence_commands}
```
"""

README_ZH = """\
## 中文说明

本文件夹是补丁 {patch} 在 releasegate 发布台账 `{ledger}` 中的完整记录，取自提交
`{head}`，生成于 {written}（UTC）。其中每一项都可以离线核验，无需安装 releasegate：
在本文件夹中打开终端，使用 `sha256sum`（GNU coreutils）和 `ssh-keygen`（OpenSSH，
需支持 `-Y verify` 和 `-O verify-time`）即可。运行 `sh verify.sh` 会依次执行下列全部
检查：全部通过时最后一行为 `ALL CHECKS PASSED`（退出码 0）；否则逐条列出未通过的
检查（以 `FAIL` 开头，退出码 1）。补丁的完整说明见 `summary.zh-CN.md`。

### 文件清单

- `summary.zh-CN.md`、`summary.en.md`：审计说明，包括补丁概况、全部事件、电子签名、
  环境推进及审计发现
- `events/`：补丁的全部事件文件，与台账中的文件逐字节一致
- `evidence/`：原始 JUnit 测试结果（以其 sha256 命名）及其统计摘要，以及代为登记的审批所附凭证
- `signatures/`：每个已签名事件的签名声明（`.json`，规范化 JSON）及 SSH 签名（`.sig`）
- `patch.yaml`：补丁登记时提交的清单
- `allowed_signers`：全部签名人的公钥，命名空间和有效期与 releasegate 核验时一致
- `revoked_keys`：台账已吊销的公钥，由这些密钥作出的签名一律无效
- `verdicts.json`：每次环境推进时记录的准入结论，以及按当时情况重新复核的结论
- `verify.sh`：执行下列全部检查的脚本（POSIX sh）
- `SHA256SUMS`：其余每个文件的 sha256

### 第一步：核对文件完整性

```sh
sha256sum -c SHA256SUMS
```

每一行都应以 `OK` 结尾。SHA256SUMS 无法包含其自身的 sha256：releasegate 在生成本档案时
已将其输出，请向移交本档案的人员索取该值，并与 `sha256sum SHA256SUMS` 的结果比对。

### 第二步：逐一核验电子签名

每份签名声明对应一条命令。每条命令都应输出
`Good "<命名空间>" signature for <签名人> with <密钥类型> key <指纹>`，且退出码为 0：

```sh
{ssh_commands}
```

`-I` 为事件记载的操作人，只有 `allowed_signers` 中属于此人的密钥才有效；`-n` 为该类
声明的签名用途（命名空间：审批 `signoff.v1@releasegate`、检查单
`checklist.v1@releasegate`、豁免 `waiver.v1@releasegate`），为某一用途作出的签名不能
挪作他用；`-r revoked_keys` 拒绝已吊销的密钥，即使签名早于吊销；`-O verify-time=` 按
事件记载的时间（而非今天）核对密钥的有效期（`valid-after`/`valid-before`），与
releasegate 的做法一致。

### 第三步：核对签名声明与事件的对应关系

每个已签名事件都记载了其签名声明和签名文件的 sha256（`statement_sha256`、
`signature_sha256`）。下列每组命令输出的两个哈希值应当一致：

```sh
{binding_commands}
```

签名声明（`signatures/*.json`，规范化 JSON）载明台账（`{ledger}`，即台账的首个提交）、
补丁及其摘要、环境、签名人、时间和决定内容，各项应与对应事件一致。`verify.sh` 会将台账、
补丁、摘要、环境、签名人和时间（审批另含角色与决定，检查单另含模板）与事件文件逐项比对，
例如：

```sh
{names_example}
```

### 第四步：核对哈希链

每个事件的 `prev` 字段应等于前一个事件文件的 sha256，第一个事件的 `prev` 为 `null`。
下列每一行先输出一个哈希值，再输出一行 `prev:`，两者应当相同：

```sh
{chain_commands}
```

最新的事件没有后续事件记载其哈希，请与台账本身比对：
`git -C <台账目录> show {head}:{folder}/{newest} | sha256sum` 的输出应与本文件夹中
`sha256sum {newest}` 的输出相同。

### 第五步：核对测试证据

每个原始 JUnit 文件以其 sha256 命名，该值记载在对应的 `tests` 事件中（`sha256`）；
其统计摘要的 sha256 记载为 `summary_sha256`。代为登记的审批所附凭证（邮件、PDF 或截图）
同样以其 sha256 命名，该值记载在审批事件中（`evidence_sha256`）：

```sh
{evidence_commands}
```
"""


def readme(record: Record) -> str:
    q = shlex.quote
    ssh = [ssh_command(r) for r in record.signed if r.statement and r.signature]
    bindings = [f"sha256sum {q(r.statement)} {q(r.signature)}; "
                f"grep -E '^ *(statement|signature)_sha256:' {q(r.event)}"
                for r in record.signed if r.statement and r.signature]
    chain = []
    for i, row in enumerate(record.events):
        if i == 0:
            chain.append(f"grep '^prev:' {q(row.path)}")
        else:
            chain.append(f"sha256sum {q(record.events[i - 1].path)}; "
                         f"grep '^prev:' {q(row.path)}")
    evidence = [f"sha256sum {q(path)}; grep -E '^[ -]*{name}: ' {q(event)}"
                for event, name, path in [*evidence_bindings(record), *proxy_evidence(record)]]
    values = {"patch": record.patch, "ledger": record.ledger, "head": record.head,
              "written": record.written_at, "folder": f"{PATCHES}/{record.patch}",
              "newest": record.events[-1].path if record.events else "events/",
              "ssh_commands": "\n".join(ssh) or "# no event of this patch is signed",
              "binding_commands": "\n".join(bindings) or "# no event of this patch is signed",
              "chain_commands": "\n".join(chain),
              "evidence_commands": "\n".join(evidence) or "# no tests were recorded",
              "names_example": _names_example(record)}
    return README_EN.format(**values) + "\n" + README_ZH.format(**values)


def _names_example(record: Record) -> str:
    """The lines of one signed event and of its statement that must agree."""
    row = next((r for r in record.signed if r.statement), None)
    if row is None or row.statement is None:
        return "# no event of this patch is signed"
    q = shlex.quote
    return (f"grep -E '^(patch|digest|env|actor|at|role|decision|template):' {q(row.event)}"
            f"\ncat {q(row.statement)}; echo")

