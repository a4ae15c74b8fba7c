/** The interface's Korean texts (해요체), key for key as `en.ts`. */
import type { Messages } from './en.ts';

const mb = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)}GB` : `${(bytes / 1e6).toFixed(1)}MB`);
/** 받침 있는 말 뒤에는 '은/이', 없는 말 뒤에는 '는/가'. Latin letters and digits are read as Korean speakers read them. */
const hasBatchim = (word: string) => {
  const last = word.trim().at(-1) ?? '';
  const code = last.charCodeAt(0) - 0xac00;
  if (code >= 0 && code < 11172) return code % 28 !== 0;
  return /[013678lmnLMN]$/.test(last);
};
const topic = (w: string) => `${w}${hasBatchim(w) ? '은' : '는'}`;
const subject = (w: string) => `${w}${hasBatchim(w) ? '이' : '가'}`;

export const ko: Messages = {
  lang: 'ko',
  languageName: '한국어',
  app: {
    title: '애드 스튜디오',
    tagline: '우리 가게 광고 이미지를 내 기기에서 바로 만들어요.',
    languageLabel: '언어',
  },
  form: {
    example: '예시',
    exampleNone: '실제 예시에서 고르기…',
    industry: '업종',
    style: '스타일',
    aspect: '비율',
    description: '어떤 사진을 원하세요?',
    descriptionPlaceholder: '대리석 카운터 위 갓 구운 크루아상, 아침 햇살',
    builtPrompt: '모델이 읽는 문장 (영어)',
    editPrompt: '고치기',
    usePromptBuilder: '자동 문장 쓰기',
    promptEdited: '직접 고친 문장',
    modelTranslates: (model: string) => `광고를 만들 때는 ${model} 모델이 한국어를 옮겨요. 이 미리보기는 내장 용어집으로 만들었어요.`,
    untranslated: (words: string) => `이해하지 못해 빠진 말: ${words}. 영어나 다른 말로 적어 주세요.`,
    removedText: (words: string) => `글자는 모델이 그리지 않고 광고 문구로 나중에 얹어요: ${words}`,
    droppedTags: (n: number) => `모델이 읽는 길이(77토큰)에 맞추려고 스타일 태그 ${n}개를 뺐어요.`,
    overLimit: '설명이 모델이 읽는 길이(77토큰)보다 길어서 끝부분이 잘려요.',
    copy: '광고 문구',
    shopName: '가게 이름',
    headline: '제목',
    subline: '부제목',
    badge: '가격·할인',
    shopNamePlaceholder: '아침빵집',
    headlinePlaceholder: '매일 아침 갓 구운 크루아상',
    sublinePlaceholder: '오전 7시–오후 9시 · 중앙로 12',
    badgePlaceholder: '50% 할인',
    advanced: '고급 설정',
    negativePrompt: '제외할 것 (네거티브 프롬프트)',
    steps: '단계 수',
    guidance: '가이던스',
    seed: '시드',
    randomSeed: '무작위 시드',
    sampler: '샘플러',
    samplerDefault: (fromConfig: boolean) => `모델 기본값 (${fromConfig ? 'scheduler_config.json' : 'Euler'})`,
    model: '모델 패키지',
    modelForStyle: (id: string) => `스타일 기본 모델 (${id})`,
    runOn: '실행 위치',
    routes: { auto: '자동', device: '이 기기', server: '서버' },
    styleDefaults: '단계 수, 가이던스, 샘플러는 스타일에 맞춰져 있어요. 여기서 바꿀 수 있어요.',
    generate: '만들기',
    generating: '만드는 중…',
  },
  industries: {
    cafe: '카페',
    bakery: '베이커리',
    restaurant: '음식점',
    flower_shop: '꽃집',
    hair_nail_salon: '미용실·네일숍',
    retail: '소매점',
    service: '서비스업',
    other: '기타',
  },
  styles: {
    ultra_realistic: { name: '실사', blurb: '진짜 사진처럼' },
    semi_realistic: { name: '반실사', blurb: '부드러운 그림 같은 사진' },
    anime: { name: '애니메이션', blurb: '밝은 애니 일러스트' },
  },
  aspects: {
    '1:1': '인스타그램 피드 1:1',
    '3:4': '인스타그램 피드 3:4',
    '4:3': '전단지·웹사이트 4:3',
    '16:9': '배너·유튜브 16:9',
    '9:16': '스토리·릴스 9:16',
  },
  photo: {
    legend: '상품·가게 사진',
    optional: '선택: 가게나 상품 사진에서 시작해요',
    strength: '변화 정도',
    strengthHint: (v: string) => `${v}: 얼마나 바꿀지`,
    remove: '사진 빼기',
    alt: '참고 사진',
    unreadable: (name: string) => `${topic(name)} 이 브라우저가 읽을 수 있는 사진이 아니에요.`,
  },
  fields: {
    prompt: '설명',
    negative_prompt: '네거티브 프롬프트',
    width: '너비',
    height: '높이',
    num_inference_steps: '단계 수',
    guidance_scale: '가이던스',
    seed: '시드',
    scheduler: '샘플러',
    strength: '변화 정도',
    image: '사진',
    model: '모델',
    style: '스타일',
    '(body)': '요청',
    'ad.text': '설명',
    'ad.industry': '업종',
    'ad.copy.shop_name': '가게 이름',
    'ad.copy.headline': '제목',
    'ad.copy.subline': '부제목',
    'ad.copy.badge': '가격·할인',
    'ad.copy.watermark': '표시',
  },
  issue: (field, rule, limit, fallback) => {
    switch (rule) {
      case 'required':
        return `${subject(field)} 필요해요.`;
      case 'minimum':
        return `${topic(field)} ${limit} 이상이어야 해요.`;
      case 'maximum':
        return `${topic(field)} ${limit} 이하여야 해요.`;
      case 'exclusive_minimum':
        return `${topic(field)} ${limit}보다 커야 해요.`;
      case 'min_length':
        return limit === 1 ? `${subject(field)} 비어 있어요. 내용을 적어 주세요.` : `${topic(field)} ${limit}자 이상이어야 해요.`;
      case 'max_length':
        return `${subject(field)} 너무 길어요. ${limit}자까지 쓸 수 있어요.`;
      case 'multiple_of':
        return `${topic(field)} ${limit}의 배수여야 해요.`;
      case 'one_of':
        return `${topic(field)} 다음 중 하나여야 해요: ${limit}.`;
      case 'type':
        return `${topic(field)} ${limit === 'integer' ? '정수' : '숫자'}여야 해요.`;
      case 'blank':
        return `${topic(field)} 빈칸뿐이에요. 내용을 적어 주세요.`;
      case 'pattern':
        return `${field}에 여기서 쓸 수 없는 글자(이모지 등)가 있어요.`;
      case 'no_step':
        return `${subject(field)} 너무 낮아 아무것도 바뀌지 않아요. ${limit} 이상으로 하거나 단계 수를 늘려 주세요.`;
      default:
        return `${field}: ${fallback}`;
    }
  },
  errors: {
    invalid_request: '고쳐야 할 설정이 있어요 (입력란을 봐 주세요).',
    unknown_model: '서버에 그 모델이 설치되어 있지 않아요.',
    model_package: '모델 파일이 손상되었거나 일부가 없어요.',
    model_download: '모델을 내려받지 못했어요.',
    storage: '이 브라우저의 저장 공간을 쓸 수 없어요.',
    storage_full: '이 사이트가 쓸 수 있는 브라우저 저장 공간이 가득 찼어요.',
    out_of_memory: '기기의 메모리가 부족해요.',
    device_lost: '그래픽 장치가 응답하지 않아요.',
    unsupported_operator: '이 기기의 그래픽 런타임에 모델이 쓰는 연산이 없어요.',
    session_error: '런타임이 모델을 실행하지 못했어요.',
    non_finite_image: '모델이 빈 이미지를 만들었어요.',
    cancelled: '만들기를 취소했어요.',
    server_unreachable: '서버에 연결할 수 없어요. 인터넷 연결을 확인하거나 이 기기에서 만들어 주세요.',
    queue_full: '지금 서버가 바빠요. 1분 뒤에 다시 해 주세요.',
    idempotency_conflict: '같은 요청이 다른 설정으로 이미 보내졌어요.',
    interrupted: '이미지를 만드는 중에 서버가 멈췄어요. 다시 해 주세요.',
    execution_provider_unavailable: '서버의 그래픽 런타임을 쓸 수 없어요.',
    unauthorized: '서버가 이 앱을 거부했어요 (키가 없거나 틀려요).',
    rate_limited: '짧은 시간에 요청이 너무 많아요. 잠시 뒤에 다시 해 주세요.',
    quota_exceeded: '오늘 서버에서 만들 수 있는 횟수를 다 썼어요. 이 기기에서 만들거나 내일 다시 해 주세요.',
    internal: '앱 안에서 문제가 생겼어요.',
  },
  noImage: (sentence: string, detail: string) => `이미지를 만들지 못했어요: ${sentence} (${detail})`,
  progress: {
    download: (variant, loaded, total) => `${variant} 모델 내려받는 중: ${(loaded / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)}MB (${Math.floor((100 * loaded) / Math.max(total, 1))}%)`,
    load: (component, index, total) => `${component} 불러오는 중 (${index + 1}/${total})`,
    serverLoad: '서버가 모델을 불러오는 중',
    encode: '설명을 읽는 중',
    denoise: (step, total) => `${total}단계 중 ${step}단계`,
    decode: '이미지를 완성하는 중',
    queued: (position) => `서버 대기 중 (앞에 ${position}건)`,
    fetch: '이미지를 받는 중',
    layout: '문구를 얹는 중',
    starting: '시작하는 중…',
    cancelling: '취소하는 중…',
    cancel: '취소',
    eta: (seconds) => (seconds < 90 ? `약 ${seconds}초 남음` : `약 ${Math.round(seconds / 60)}분 남음`),
    previewAlt: '미리보기',
    previewTitle: (step) => `${step}단계`,
  },
  notices: {
    offline: '서버에 연결할 수 없어서 이 기기에서만 만들어요.',
    historyUnreadable: (detail) => `기록을 읽지 못했어요: ${detail}`,
    modelDetails: (id, detail) => `"${id}" 모델 정보를 가져오지 못했어요: ${detail}`,
    backgroundDone: (variant) => `${variant} 모델을 이 기기에 받았어요. 이제부터 이 기기에서 만들어요.`,
    backgroundFailed: (variant, reason) => `${variant} 모델을 이 기기에 받지 못했어요: ${reason}. 서버에서 만들어요.`,
    resumed: '새로 고치기 전에 요청한 이미지를 서버가 아직 만들고 있어요.',
    truncatedPrompt: (cut) => `설명이 모델이 읽는 길이(77토큰)보다 길어서 끝부분은 쓰이지 않았어요: "${cut}"`,
    truncatedNegative: (cut) => `네거티브 프롬프트가 77토큰보다 길어서 끝부분은 쓰이지 않았어요: "${cut}"`,
    fp32Retry: '반정밀도에서 이미지 디코더가 넘쳐서 전체 정밀도로 다시 디코딩했어요.',
    memoryOnly: '이 브라우저 창은 모델을 저장할 수 없어요 (시크릿 창이거나 공간 부족). 이번 방문 동안만 메모리에 두고 다음에 다시 받아요.',
    historyNotSaved: (detail) => `이미지를 기록에 저장하지 못했어요 (${detail}). 보관하려면 내려받아 주세요.`,
    downloadFailed: (reason) => `모델을 내려받지 못했어요: ${reason}`,
    repaired: (n, variant) => `손상된 조각 ${n}개를 다시 받았어요. 이제 ${variant} 모델은 온전해요.`,
    intact: (variant) => `이 기기의 ${variant} 모델은 온전해요.`,
    checkFailed: (reason) => `모델을 확인하지 못했어요: ${reason}`,
    removeFailed: (detail) => `모델을 지우지 못했어요: ${detail}`,
    variantFailed: (variant, reason, next) => `${variant} 모델을 이 기기에서 실행하지 못했어요: ${reason}. 대신 ${next} 모델로 해 볼게요.`,
    deviceFailed: (reason) => `이 기기에서 이미지를 끝내지 못했어요: ${reason}. 같은 요청을 서버에서 만들게요.`,
    shareFailed: (detail) => `사진을 공유하지 못했어요: ${detail}`,
    exportFailed: (detail) => `사진을 저장하지 못했어요: ${detail}`,
  },
  plain: {
    out_of_memory: '메모리가 부족했어요',
    device_lost: '그래픽 장치가 응답하지 않았어요',
    unsupported_operator: '그래픽 런타임에 모델이 쓰는 연산이 없어요',
    session_error: '런타임이 모델을 실행하지 못했어요',
    storage: '저장 공간을 쓸 수 없었어요',
    storage_full: '이 사이트의 저장 공간이 가득 찼어요',
    model_download: '모델을 내려받지 못했어요',
  },
  device: {
    title: '기기',
    checking: 'WebGPU 확인 중…',
    fp16: 'fp16 지원',
    noFp16: 'fp16 없음',
    software: '소프트웨어 (CPU)',
    route: '실행 위치',
    model: '모델',
    stored: (variant, bytes) => `${variant} 모델이 이 기기에 있어요 (${mb(bytes)})`,
    notStored: (variant, bytes) => `${variant} 모델이 아직 이 기기에 없어요 (내려받을 크기 ${mb(bytes)})`,
    download: '오프라인용으로 내려받기',
    check: '파일 확인',
    remove: '이 기기에서 지우기',
    background: (variant, loaded, total) => `${variant} 모델을 뒤에서 내려받는 중: ${mb(total)} 중 ${mb(loaded)}`,
  },
  route: (why, variant) => {
    const v = variant ? `${variant} 모델` : '모델';
    switch (why) {
      case 'server_chosen':
        return '설정에서 서버를 골랐어요.';
      case 'device_chosen':
        return `설정에서 이 기기를 골랐어요: ${subject(v)} 이 기기에서 돌아가요.`;
      case 'details_pending':
        return '모델 정보를 아직 불러오지 못해서 서버에서 만들어요.';
      case 'no_variant':
        return '이 기기에서 돌릴 수 있는 모델 형식이 없어서 서버에서 만들어요.';
      case 'no_webgpu':
        return '이 브라우저에 WebGPU가 없어서 서버에서 만들어요.';
      case 'unmet':
        return '이 기기에는 모델이 너무 커서 서버에서 만들어요.';
      case 'software_adapter':
        return '이 기기의 그래픽이 CPU로 흉내 내는 방식이라 너무 느려서 서버에서 만들어요.';
      case 'downloading':
        return `${subject(v)} 이 기기에 내려받아지는 동안 서버에서 만들어요.`;
      case 'not_kept':
        return '이 브라우저 창은 모델을 저장할 수 없어서 서버에서 만들어요.';
      case 'device_runs':
        return `이 기기에서 ${v}로 만들어요.`;
    }
  },
  quota: {
    left: (n) => `오늘 남은 서버 생성 횟수: ${n}`,
    reset: (time) => `(${time}에 다시 채워져요. 이 기기에서 만든 이미지는 세지 않아요)`,
  },
  result: {
    cancelled: '만들기를 취소했어요.',
    empty: '여기에 이미지가 나타나요.',
    computed: '만든 곳',
    onDevice: '이 기기',
    onServer: '서버',
    provider: '실행 장치',
    model: '모델',
    time: '걸린 시간',
    sizeSeed: '크기 · 시드',
    fallback: '전환 이유',
    seconds: (s) => `${s.toFixed(2)}초`,
    downloadPng: 'PNG 내려받기',
    editCopy: '문구 고치기',
    showCopy: '이미지에 문구 넣기',
  },
  export: {
    title: '저장·공유',
    size: '크기',
    sizes: {
      original: '원본',
      instagram_square: '인스타그램 정사각형 1080×1080',
      instagram_portrait: '인스타그램 세로 1080×1350',
      story_reels: '스토리·릴스 1080×1920',
      facebook_link: '페이스북·링크 1200×628',
    },
    fit: '맞추기',
    fitModes: { crop: '채우기 (잘라내기)', fit: '전체 보이기' },
    format: '형식',
    watermark: '작은 "Ad Studio" 표시',
    download: '내려받기',
    share: '공유하기',
    working: '준비하는 중…',
  },
  made: {
    title: '이렇게 만들었어요',
    nodes: { prompt: '프롬프트', txt2img: '글로 그리기', img2img: '사진으로 그리기', layout: '문구 얹기', export: '내보내기' },
    status: { succeeded: '완료', failed: '실패', skipped: '건너뜀', running: '진행 중', pending: '대기', cancelled: '취소됨' },
    translatedBy: (by: string) => (by === 'glossary' ? '한국어는 내장 용어집으로 옮겼어요' : `한국어는 ${by} 모델로 옮겼어요`),
  },
  history: {
    title: '기록',
    empty: '만든 이미지는 이 기기에 보관돼요.',
    server: (ep) => `서버 ${ep}`,
    delete: '지우기',
    deleted: '이미지를 지웠어요.',
    undo: '되돌리기',
    open: '열기: 이미지를 보고 그때 설정을 다시 채워요',
  },
};
