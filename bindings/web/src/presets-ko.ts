// Korean descriptions of the presets (the scenario files' `description`, restated for the seed article's readers).
// Kernel names (sysctls, cgroup files, oom_score_adj) stay as the kernel spells them. test/web-presets.test.ts checks
// that every scenario in scenarios/ has one, and that the overcommit modes are numbered as the kernel numbers them.
export const DESCRIPTIONS_KO: Record<string, string> = {
  'cgroup-v1-kmem-limit': 'v1의 kmem 한도는 써도 받아들여지지만 최근 커널에서는 아무 효과가 없습니다',
  'cgroup-v1-limit-in-bytes': '512M v1 cgroup 안의 memcg OOM: memcg의 totalpages가 희생자를 바꿉니다',
  'cgroup-v1-memsw-limit': 'v1 메모리+스왑 한도: memsw 한도까지 스왑을 쓰고, 그다음 memcg OOM이 납니다',
  'cgroup-v1-oom-control': 'oom_kill_disable=1이면 한도에서 태스크가 멈춰 기다립니다. 한도를 올리면 다시 돌고, 0을 쓰면 죽습니다',
  'cgroup-v1-soft-limit': 'v1 soft limit: 시스템 전체에 메모리가 모자라면 soft limit을 넘은 그룹부터 회수합니다',
  'cgroup-v2-memory-high': 'v2 memory.high는 누수를 회수와 sleep으로 늦출 뿐, OOM kill은 일어나지 않습니다',
  'fork-overcommit-mode0': '7 GiB 머신에서 4 GiB 프로세스가 fork: overcommit 모드 0(휴리스틱), fork 성공',
  'fork-overcommit-mode1': '7 GiB 머신에서 4 GiB 프로세스가 fork: overcommit 모드 1(항상 허용), fork 성공',
  'fork-overcommit-mode2': '7 GiB 머신에서 4 GiB 프로세스가 fork: overcommit 모드 2(엄격), fork가 ENOMEM으로 실패',
  'global-oom-adj': '시스템 전체 OOM: adj -500이 데이터베이스를 지키므로 첫 희생자는 누수를 일으킨 프로세스가 아닙니다',
  'oom-dump-tasks': 'Tasks 상태 표는 vm.oom_dump_tasks가 0이 아닐 때만 출력됩니다',
  'oom-kill-allocating-task': '가장 큰 프로세스 대신, 할당을 시도한 작은 워커가 죽습니다',
  'oom-killer-disabled': 'oom_killer_disable() 상태: OOM 킬러가 필요한 할당은 누구도 죽이지 않고 실패합니다',
  'panic-no-killable': '모든 태스크가 adj -1000: 시스템 전체 OOM이 "System is deadlocked on memory" 패닉이 됩니다',
  'panic-on-oom-global': 'vm.panic_on_oom=1이면 시스템 전체 OOM이 커널 패닉이 됩니다',
  'panic-on-oom-memcg': 'vm.panic_on_oom=2는 memcg OOM에서도 패닉합니다. 1이면 cgroup OOM은 프로세스를 죽이기만 합니다',
  'prevent-adj-tuning': 'adj -1000이 postgres를 지키고, adj 1000인 일회용 작업이 먼저 선택됩니다',
  'prevent-more-swap': '스왑을 늘리면 누수가 있는 서비스의 OOM이 늦어지고, 그 전에 PSI가 압력을 보여 줍니다',
  'prevent-overcommit-2': '엄격한 overcommit(모드 2)은 OOM kill 대신 누수를 일으킨 프로세스의 할당 실패로 바꿉니다',
  'prevent-supervisor-restart': '1G cgroup 안에서 OOM으로 죽은 서비스를 systemd처럼 다시 시작합니다',
  'swap-zram-priority': 'zram(우선순위 100)이 SSD보다 먼저 찹니다. zram의 압축된 페이지는 RAM을 씁니다',
};
