"""How common a character or word is in catalog prose: a hint that steers the prefilter's speed.

The prefilter (app.screening.literals) keys each required word on its rarest character and, for
each trigger, prefers the set of words least likely to occur in ordinary text. These tables only
decide which of several correct choices is faster; no screening result depends on them.
"""

from __future__ import annotations

# Frequent characters, most frequent first: of ordinary catalog prose (procurement words every
# notice uses, then the demo catalog), then of written Chinese in general (由 按 原 现 以 …).
_CATALOG_COMMON = (
    "购买采招标投供应商合同务服和展开业对评查提为理供运人测项保全资市生组安织专公管监技调动化工政机估检设"
    "训护计培助研目数审制地营质维规会量导学城价育报社建体产行核区农活法信据究分用员中企指能传划统作家教术"
    "定场水出发防宣等物点年医文民方施告案析重息养标辅效构金村策询咨平交品成考环关度题台小事源编系办况经并"
    "集境基进治程应校托通推合障险路性职科律新预实委广老健收的共康疗证局议卫在心范抽线国大府投创商乡协接情"
    "绩园就站具巡备急力入课验级残论控样解食网准意算状益态道支排电普林车问风财游记访主单位期置病字害洁利疾"
    "有救儿复房庭料档放现形气修结处布采持户果示间馆整扶节试者土三改部自消登居层旅空日流外费配第象污转所更"
    "督件志灾代照满帮愿住干0123456789"
)
_GENERAL_COMMON = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政"
    "美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员"
    "解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件"
    "计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象"
    "完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改"
    "收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调"
    "深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企"
    "八功包片史委乎查轻易早曾除农找装广显阿李标谈吃图念六引"
)
# Frequent two-character sequences of catalog prose (the demo catalog), then some of procurement
# notices: a word is at most as frequent as its rarest bigram, and 管理 is common where 服从 is not.
_BIGRAM_TEXT = (
    "服务 开展 提供 组织 评估 安全 培训 管理 项目 调查 研究 监测 数据 质量 企业 评价 "
    "运营 宣传 活动 技术 城市 查服 分析 信息 报告 规划 咨询 指导 机构 教育 人员 发展 "
    "平台 理服 审计 运维 运行 估服 专项 设施 机关 编制 环境 维护 资金 检查 查和 辅助 "
    "政策 重点 训服 测服 检测 中小 社会 工作 法律 社区 委托 助服 政府 资源 统计 医疗 "
    "专家 保障 公共 技能 文化 建设 核查 专业 交通 究服 绩效 小学 评审 效评 系统 和数 "
    "推广 业务 就业 农村 生产 营服 护服 卫生 出具 健康 情况 论证 协助 应急 题研 展专 "
    "工程 导服 织服 标准 残疾 职业 展评 维服 保护 测和 保洁 档案 农业 全市 家庭 风险 "
    "经营 物业 公益 传服 登记 考核 体育 制定 学生 科技 抽样 目开 建议 务培 供运 市场 "
    "员开 第三 三方 局机 提出 况开 织专 巡查 项资 养老 疾人 投资 学校 状况 对城 价服 "
    "询服 对接 地方 设备 业技 基层 台运 规范 数字 产业 制服 导和 能培 生态 计服 旅游 "
    "家对 并出 辅导 心理 形成 和安 综合 更新 满意 意度 志愿 生活 单位 方案 治理 帮扶 "
    "体系 全生 指标 支持 和设 助开 食品 中心 运输 政务 展规 理和 战略 儿童 能力 调解 "
    "经济 专题 略研 台提 检验 垃圾 具评 业管 年度 乡村 老年 救助 划研 划编 并提 金开 "
    "劳动 创业 道路 年人 军人 课题 定服 务服 询和 供保 知识 行维 退役 国有 析服 采集 "
    "调研 作业 示范 处理 字化 工业 群众 役军 围绕 会务 提升 训练 据分 计数 成效 污染 "
    "购买 采购 进行 负责 按照 要求 提交 时间 每月 每年 部门 相关 以及 包括 其他 不少 "
    "以上 主体 对象 人次 "
)
_PUNCTUATION = "、，。；：（）《》“”,.;:()"  # everywhere in prose, never a good key


def _char_scores() -> dict[str, int]:
    """Return a commonness score per character: higher is more frequent, unknown characters score 0."""
    scores = dict.fromkeys(_PUNCTUATION, len(_GENERAL_COMMON) + 1)
    for table in (_CATALOG_COMMON, _GENERAL_COMMON):
        for rank, char in enumerate(table):
            scores[char] = max(scores.get(char, 0), len(table) - rank)
    return scores


_CHARS = _char_scores()
_BIGRAMS = {bigram: len(_GENERAL_COMMON) - rank for rank, bigram in enumerate(_BIGRAM_TEXT.split())}


def char_commonness(char: str) -> int:
    """Return how common `char` is in catalog prose (0 for a rare or unknown character)."""
    return _CHARS.get(char, 0)


def commonness(word: str) -> int:
    """Return how common `word` is expected to be: by its character, or by its rarest bigram."""
    if len(word) == 1:
        return char_commonness(word)
    return min(_bigram_commonness(word[i : i + 2]) for i in range(len(word) - 1))


def _bigram_commonness(bigram: str) -> int:
    """Return the score of a listed bigram, else half that of its rarer character (开发 is not rare)."""
    if bigram in _BIGRAMS:
        return _BIGRAMS[bigram]
    return min(map(char_commonness, bigram)) // 2
