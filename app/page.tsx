import { Landing } from "@/components/views/landing.tsx";

export default function Home() {
  return <Landing />;
}
